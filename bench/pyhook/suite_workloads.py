"""The twelve workloads of the benchmark suite (suite.py).

Each is modelled on the pyperformance benchmark of the same name -- the same
kind of work, so that the suite's geometric mean is comparable with figures
taken with pyperformance -- but written from scratch here (pyperformance is
not installable on the benchmark machines, and its code is not copied):

    richards         an operating-system-like task scheduler (workloads.py)
    deltablue        an incremental constraint solver (the DeltaBlue
                     algorithm): classes, many small method calls
    raytrace         a small ray tracer with vector, ray, sphere, plane and
                     camera classes
    json_dumps       json.dumps of nested dicts and lists (the C encoder)
    logging          logging calls to a StringIO-backed handler, most of
                     them filtered out by level
    nbody            an n-body gravity simulation (workloads.py)
    chaos            the chaos game: an iterated function system whose maps
                     are bent by B-spline curves, drawn into a grid
    go               a Monte-Carlo Go player: random playouts on a 9x9 board
                     under a UCT tree
    hexiom           a constraint puzzle on a hexagonal board (each tile
                     says how many of its neighbours hold tiles), solved by
                     backtracking with propagation
    float            creating, normalising and maximising many Point objects
                     with math calls
    nqueens          N-queens through permutations and generators
    unpack_sequence  many tuple and list unpackings in straight-line code

Each workload is a callable taking one size argument and returning a value
that depends on the whole computation, so that the harness checks tracing did
not change the result. DEFAULT sizes take roughly 50-150 ms untraced on
CPython 3.12 here; QUICK sizes keep the ctest smoke run short. Randomness is
a private linear congruential generator, so results do not depend on the
random module's implementation across Python versions.
"""

import collections
import io
import json
import logging as _logging
import math

from workloads import nbody, richards


class Lcg:
    """A small deterministic generator (the same numbers on every Python)."""

    def __init__(self, seed):
        self.state = seed & 0x7FFFFFFF

    def next(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state

    def below(self, n):
        return self.next() % n

    def unit(self):
        return self.next() / 2147483648.0


# --------------------------------------------------------------------------
# deltablue: an incremental constraint solver
#
# Variables hold values; constraints between them have strengths. The
# planner keeps, for the current set of constraints, a choice of which
# constraint determines each variable (walking strengths let weaker
# constraints be overridden by stronger ones), updating that choice
# incrementally as constraints come and go; a plan is then the order in
# which to run the satisfied constraints so that new input values flow
# through.

REQUIRED, STRONG_PREFERRED, PREFERRED, STRONG_DEFAULT, NORMAL, \
    WEAK_DEFAULT, WEAKEST = range(7)


def stronger(a, b):
    return a < b


def weaker(a, b):
    return a > b


def weakest_of(a, b):
    return a if a > b else b


NONE, FORWARD, BACKWARD = 0, 1, 2


class Variable:
    def __init__(self, name, value=0):
        self.name = name
        self.value = value
        self.constraints = []
        self.determined_by = None
        self.mark = 0
        self.walk_strength = WEAKEST
        self.stay = True

    def add_constraint(self, c):
        self.constraints.append(c)

    def remove_constraint(self, c):
        self.constraints.remove(c)
        if self.determined_by is c:
            self.determined_by = None


class Constraint:
    def __init__(self, planner, strength):
        self.planner = planner
        self.strength = strength

    def add(self):
        self.add_to_graph()
        self.planner.incremental_add(self)

    def destroy(self):
        if self.is_satisfied():
            self.planner.incremental_remove(self)
        else:
            self.remove_from_graph()

    def is_input(self):
        return False

    def satisfy(self, mark):
        """Picks a direction; returns the constraint this one overrode."""
        self.choose_method(mark)
        if not self.is_satisfied():
            if self.strength == REQUIRED:
                raise RuntimeError("could not satisfy a required constraint")
            return None
        self.mark_inputs(mark)
        out = self.output()
        overridden = out.determined_by
        if overridden is not None:
            overridden.mark_unsatisfied()
        out.determined_by = self
        if not self.planner.add_propagate(self, mark):
            raise RuntimeError("cycle")
        out.mark = mark
        return overridden


class UnaryConstraint(Constraint):
    def __init__(self, planner, var, strength):
        Constraint.__init__(self, planner, strength)
        self.var = var
        self.satisfied = False
        self.add()

    def add_to_graph(self):
        self.var.add_constraint(self)
        self.satisfied = False

    def remove_from_graph(self):
        self.var.remove_constraint(self)
        self.satisfied = False

    def choose_method(self, mark):
        self.satisfied = (self.var.mark != mark
                          and stronger(self.strength, self.var.walk_strength))

    def is_satisfied(self):
        return self.satisfied

    def mark_inputs(self, mark):
        pass

    def output(self):
        return self.var

    def recalculate(self):
        self.var.walk_strength = self.strength
        self.var.stay = not self.is_input()
        if self.var.stay:
            self.execute()

    def mark_unsatisfied(self):
        self.satisfied = False

    def inputs_known(self, mark):
        return True

    def execute(self):
        pass


class StayConstraint(UnaryConstraint):
    pass


class EditConstraint(UnaryConstraint):
    def is_input(self):
        return True


class BinaryConstraint(Constraint):
    def __init__(self, planner, v1, v2, strength, add=True):
        Constraint.__init__(self, planner, strength)
        self.v1, self.v2 = v1, v2
        self.direction = NONE
        if add:
            self.add()

    def add_to_graph(self):
        self.v1.add_constraint(self)
        self.v2.add_constraint(self)
        self.direction = NONE

    def remove_from_graph(self):
        self.v1.remove_constraint(self)
        self.v2.remove_constraint(self)
        self.direction = NONE

    def choose_method(self, mark):
        v1, v2, s = self.v1, self.v2, self.strength
        if v1.mark == mark:
            ok = v2.mark != mark and stronger(s, v2.walk_strength)
            self.direction = FORWARD if ok else NONE
        elif v2.mark == mark:
            ok = v1.mark != mark and stronger(s, v1.walk_strength)
            self.direction = BACKWARD if ok else NONE
        elif weaker(v1.walk_strength, v2.walk_strength):
            self.direction = BACKWARD if stronger(s, v1.walk_strength) else NONE
        else:
            self.direction = FORWARD if stronger(s, v2.walk_strength) else BACKWARD

    def is_satisfied(self):
        return self.direction != NONE

    def input(self):
        return self.v1 if self.direction == FORWARD else self.v2

    def output(self):
        return self.v2 if self.direction == FORWARD else self.v1

    def mark_inputs(self, mark):
        self.input().mark = mark

    def inputs_stay(self):
        return self.input().stay

    def recalculate(self):
        src, out = self.input(), self.output()
        out.walk_strength = weakest_of(self.strength, src.walk_strength)
        out.stay = self.inputs_stay()
        if out.stay:
            self.execute()

    def mark_unsatisfied(self):
        self.direction = NONE

    def inputs_known(self, mark):
        src = self.input()
        return src.mark == mark or src.stay or src.determined_by is None


class EqualityConstraint(BinaryConstraint):
    def execute(self):
        self.output().value = self.input().value


class ScaleConstraint(BinaryConstraint):
    """v2 = v1 * scale + offset, either way round."""

    def __init__(self, planner, src, scale, offset, dest, strength):
        BinaryConstraint.__init__(self, planner, src, dest, strength, add=False)
        self.scale, self.offset = scale, offset
        self.add()

    def add_to_graph(self):
        BinaryConstraint.add_to_graph(self)
        self.scale.add_constraint(self)
        self.offset.add_constraint(self)

    def remove_from_graph(self):
        BinaryConstraint.remove_from_graph(self)
        self.scale.remove_constraint(self)
        self.offset.remove_constraint(self)

    def mark_inputs(self, mark):
        BinaryConstraint.mark_inputs(self, mark)
        self.scale.mark = self.offset.mark = mark

    def inputs_stay(self):
        return self.input().stay and self.scale.stay and self.offset.stay

    def execute(self):
        if self.direction == FORWARD:
            self.v2.value = self.v1.value * self.scale.value + self.offset.value
        else:
            self.v1.value = (self.v2.value - self.offset.value) // self.scale.value


class Planner:
    def __init__(self):
        self.current_mark = 0

    def new_mark(self):
        self.current_mark += 1
        return self.current_mark

    def incremental_add(self, c):
        mark = self.new_mark()
        overridden = c.satisfy(mark)
        while overridden is not None:
            overridden = overridden.satisfy(mark)

    def incremental_remove(self, c):
        out = c.output()
        c.mark_unsatisfied()
        c.remove_from_graph()
        unsatisfied = self.remove_propagate_from(out)
        for strength in range(REQUIRED, WEAKEST):
            for u in unsatisfied:
                if u.strength == strength:
                    self.incremental_add(u)

    def add_propagate(self, c, mark):
        todo = [c]
        while todo:
            d = todo.pop()
            if d.output().mark == mark:
                self.incremental_remove(c)
                return False
            d.recalculate()
            self.consumers_of(d.output(), todo)
        return True

    def remove_propagate_from(self, out):
        out.determined_by = None
        out.walk_strength = WEAKEST
        out.stay = True
        unsatisfied, todo = [], [out]
        while todo:
            v = todo.pop()
            for c in v.constraints:
                if not c.is_satisfied():
                    unsatisfied.append(c)
            determining = v.determined_by
            for c in v.constraints:
                if c is not determining and c.is_satisfied():
                    c.recalculate()
                    todo.append(c.output())
        return unsatisfied

    def consumers_of(self, v, into):
        determining = v.determined_by
        for c in v.constraints:
            if c is not determining and c.is_satisfied():
                into.append(c)

    def make_plan(self, sources):
        mark = self.new_mark()
        plan, todo = [], collections.deque(sources)
        while todo:
            c = todo.popleft()
            out = c.output()
            if out.mark != mark and c.inputs_known(mark):
                plan.append(c)
                out.mark = mark
                self.consumers_of(out, todo)
        return plan

    def plan_from(self, constraints):
        return self.make_plan([c for c in constraints
                               if c.is_input() and c.is_satisfied()])


def run_plan(plan):
    for c in plan:
        c.execute()


def deltablue_chain(n):
    """A chain of n equalities; edit its head, watch its tail follow."""
    planner = Planner()
    vs = [Variable("v%d" % i) for i in range(n + 1)]
    for a, b in zip(vs, vs[1:]):
        EqualityConstraint(planner, a, b, REQUIRED)
    StayConstraint(planner, vs[-1], STRONG_DEFAULT)
    edit = EditConstraint(planner, vs[0], PREFERRED)
    plan = planner.plan_from([edit])
    total = 0
    for i in range(50):
        vs[0].value = i
        run_plan(plan)
        if vs[-1].value != i:
            raise RuntimeError("chain: the tail did not follow")
        total += vs[-1].value
    edit.destroy()
    return total


def _change(planner, var, value):
    edit = EditConstraint(planner, var, PREFERRED)
    plan = planner.plan_from([edit])
    for _ in range(5):
        var.value = value
        run_plan(plan)
    edit.destroy()


def deltablue_projection(n):
    """n pairs dst = src * scale + offset; changing either end moves the
    other, changing the scale moves every destination."""
    planner = Planner()
    scale, offset = Variable("scale", 10), Variable("offset", 1000)
    srcs, dsts = [], []
    for i in range(n):
        src, dst = Variable("src%d" % i, i), Variable("dst%d" % i, i)
        srcs.append(src)
        dsts.append(dst)
        StayConstraint(planner, src, NORMAL)
        ScaleConstraint(planner, src, scale, offset, dst, REQUIRED)
    _change(planner, srcs[0], 17)
    _change(planner, dsts[0], 1050)
    _change(planner, scale, 5)
    _change(planner, offset, 2000)
    return (srcs[0].value, dsts[0].value,
            sum(d.value for d in dsts), sum(s.value for s in srcs))


def deltablue(n):
    return [deltablue_chain(n), deltablue_projection(n)]


# --------------------------------------------------------------------------
# raytrace: a small ray tracer

class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def scale(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o):
        return self.x * o.x + self.y * o.y + self.z * o.z

    def cross(self, o):
        return Vec(self.y * o.z - self.z * o.y, self.z * o.x - self.x * o.z,
                   self.x * o.y - self.y * o.x)

    def length(self):
        return math.sqrt(self.dot(self))

    def unit(self):
        return self.scale(1.0 / self.length())

    def reflect(self, normal):
        return self - normal.scale(2.0 * self.dot(normal))


class Ray:
    __slots__ = ("origin", "direction")

    def __init__(self, origin, direction):
        self.origin, self.direction = origin, direction.unit()

    def at(self, t):
        return self.origin + self.direction.scale(t)


EPSILON = 1e-6


class Sphere:
    def __init__(self, centre, radius, colour, shine):
        self.centre, self.radius = centre, radius
        self.colour, self.shine = colour, shine

    def hit(self, ray):
        oc = ray.origin - self.centre
        b = oc.dot(ray.direction)
        c = oc.dot(oc) - self.radius * self.radius
        disc = b * b - c
        if disc < 0:
            return None
        root = math.sqrt(disc)
        for t in (-b - root, -b + root):
            if t > EPSILON:
                return t
        return None

    def normal_at(self, p):
        return (p - self.centre).unit()

    def colour_at(self, p):
        return self.colour


class Plane:
    def __init__(self, point, normal, colour, shine):
        self.point, self.normal = point, normal.unit()
        self.colour, self.shine = colour, shine

    def hit(self, ray):
        d = ray.direction.dot(self.normal)
        if abs(d) < EPSILON:
            return None
        t = (self.point - ray.origin).dot(self.normal) / d
        return t if t > EPSILON else None

    def normal_at(self, p):
        return self.normal

    def colour_at(self, p):
        # a checkerboard
        if (math.floor(p.x) + math.floor(p.z)) % 2:
            return self.colour
        return self.colour.scale(0.3)


class Scene:
    def __init__(self):
        self.objects = []
        self.lights = []
        self.ambient = 0.1

    def nearest(self, ray):
        best, best_t = None, None
        for obj in self.objects:
            t = obj.hit(ray)
            if t is not None and (best_t is None or t < best_t):
                best, best_t = obj, t
        return best, best_t

    def lit(self, point, light):
        to_light = light - point
        distance = to_light.length()
        obj, t = self.nearest(Ray(point, to_light))
        return obj is None or t > distance

    def trace(self, ray, depth):
        obj, t = self.nearest(ray)
        if obj is None:
            return Vec(0.0, 0.0, 0.0)
        point = ray.at(t)
        normal = obj.normal_at(point)
        base = obj.colour_at(point)
        colour = base.scale(self.ambient)
        for light in self.lights:
            if self.lit(point, light):
                lambert = normal.dot((light - point).unit())
                if lambert > 0:
                    colour = colour + base.scale(lambert)
        if depth > 0 and obj.shine > 0:
            bounced = Ray(point, ray.direction.reflect(normal))
            colour = colour + self.trace(bounced, depth - 1).scale(obj.shine)
        return colour


class Camera:
    def __init__(self, eye, look_at, up, width, height):
        self.eye = eye
        self.forward = (look_at - eye).unit()
        self.right = self.forward.cross(up).unit()
        self.up = self.right.cross(self.forward)
        self.width, self.height = width, height

    def ray(self, px, py):
        x = (px + 0.5) / self.width * 2.0 - 1.0
        y = 1.0 - (py + 0.5) / self.height * 2.0
        d = self.forward + self.right.scale(x) + self.up.scale(y * 0.75)
        return Ray(self.eye, d)


def _clamp8(v):
    return max(0, min(255, int(v * 255)))


def raytrace(size):
    scene = Scene()
    scene.objects.append(Sphere(Vec(0, 1, 0), 1.0, Vec(0.9, 0.2, 0.2), 0.3))
    scene.objects.append(Sphere(Vec(-2, 0.6, 1), 0.6, Vec(0.2, 0.9, 0.3), 0.5))
    scene.objects.append(Sphere(Vec(1.8, 0.5, -0.5), 0.5, Vec(0.3, 0.3, 0.9), 0.2))
    scene.objects.append(Plane(Vec(0, 0, 0), Vec(0, 1, 0), Vec(0.8, 0.8, 0.8), 0.2))
    scene.lights.append(Vec(-5, 8, -6))
    scene.lights.append(Vec(6, 4, -2))
    camera = Camera(Vec(0, 2, -6), Vec(0, 0.8, 0), Vec(0, 1, 0), size, size)
    checksum = 0
    for py in range(size):
        for px in range(size):
            c = scene.trace(camera.ray(px, py), 2)
            checksum = (checksum * 31 + _clamp8(c.x) * 65536
                        + _clamp8(c.y) * 256 + _clamp8(c.z)) % 1000000007
    return checksum


# --------------------------------------------------------------------------
# json_dumps: serialising nested structures

def _json_documents():
    rnd = Lcg(7)
    docs = []
    for i in range(8):
        doc = {
            "id": i,
            "name": "r\u00e9sum\u00e9 %d \u2603" % i,
            "active": bool(i % 2),
            "score": rnd.unit() * 100,
            "tags": ["t%d" % rnd.below(50) for _ in range(6)],
            "nested": {
                "level": [{"k%d" % j: [j, j * 2.5, None, "x" * j]}
                          for j in range(5)],
                "empty": {},
            },
            "matrix": [[rnd.below(1000) for _ in range(6)] for _ in range(4)],
        }
        docs.append(doc)
    return docs


def json_dumps(repeats):
    docs = _json_documents()
    total = 0
    last = ""
    for _ in range(repeats):
        for doc in docs:
            last = json.dumps(doc)
            total += len(last)
        total += len(json.dumps(docs, sort_keys=True, indent=1))
    return total, last[-40:]


# --------------------------------------------------------------------------
# logging: records through a formatter into a StringIO, most filtered out

def logging(rounds):
    stream = io.StringIO()
    handler = _logging.StreamHandler(stream)
    handler.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    log = _logging.getLogger("tracestore-bench-logging")
    log.propagate = False
    log.handlers[:] = [handler]
    log.setLevel(_logging.WARNING)
    try:
        for i in range(rounds):
            log.debug("debug %d is filtered out", i)
            log.info("info %s is filtered out", "message")
            log.warning("warning %d of %s", i, "the run")
            log.debug("another filtered record")
            log.error("error: %r", (i, i * 2))
            log.info("also filtered: %d", i)
            log.warning("plain warning")
    finally:
        log.handlers[:] = []
    text = stream.getvalue()
    return len(text), text.count("\n"), text[-30:]


# --------------------------------------------------------------------------
# chaos: the chaos game with spline-bent maps

class GVector:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, o):
        return GVector(self.x + o.x, self.y + o.y)

    def __sub__(self, o):
        return GVector(self.x - o.x, self.y - o.y)

    def __mul__(self, k):
        return GVector(self.x * k, self.y * k)

    def dist(self, o):
        return math.hypot(self.x - o.x, self.y - o.y)

    def lerp(self, o, t):
        return GVector(self.x + (o.x - self.x) * t, self.y + (o.y - self.y) * t)


class Spline:
    """A clamped uniform cubic B-spline, evaluated by de Boor's algorithm."""

    def __init__(self, points, degree=3):
        self.points = points
        self.degree = degree
        n = len(points)
        inner = n - degree
        self.knots = ([0.0] * degree + [i / inner for i in range(inner + 1)]
                      + [1.0] * degree)

    def span(self, u):
        k = self.degree
        last = len(self.points) - 1
        if u >= self.knots[last + 1]:
            return last
        lo, hi = k, last + 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.knots[mid] <= u:
                lo = mid
            else:
                hi = mid
        return lo

    def __call__(self, u):
        k, t = self.degree, self.knots
        s = self.span(u)
        d = [self.points[j] for j in range(s - k, s + 1)]
        for r in range(1, k + 1):
            for j in range(k, r - 1, -1):
                i = j + s - k
                denom = t[i + k - r + 1] - t[i]
                alpha = 0.0 if denom == 0 else (u - t[i]) / denom
                d[j] = d[j - 1].lerp(d[j], alpha)
        return d[k]


class ChaosGame:
    def __init__(self, splines, thickness, rnd):
        self.splines = splines
        self.thickness = thickness
        self.rnd = rnd
        self.lengths = [self.length(s) for s in splines]
        self.total = sum(self.lengths)

    @staticmethod
    def length(spline, steps=40):
        pts = [spline(i / steps) for i in range(steps + 1)]
        return sum(a.dist(b) for a, b in zip(pts, pts[1:]))

    def pick(self):
        r = self.rnd.unit() * self.total
        for i, n in enumerate(self.lengths):
            if r < n:
                return i
            r -= n
        return len(self.lengths) - 1

    def transform(self, point):
        """Moves `point` to a spot near a random point of a random spline."""
        spline = self.splines[self.pick()]
        u = min(max(point.x, 0.0), 1.0)
        on = spline(u)
        jitter = (self.rnd.unit() - 0.5) * self.thickness
        return on.lerp(GVector(on.x + jitter, on.y + point.y * self.thickness),
                       0.5)


def chaos(iterations):
    rnd = Lcg(1234)
    splines = [
        Spline([GVector(0.1, 0.1), GVector(0.3, 0.8), GVector(0.5, 0.2),
                GVector(0.7, 0.9), GVector(0.9, 0.3)]),
        Spline([GVector(0.2, 0.9), GVector(0.4, 0.5), GVector(0.6, 0.6),
                GVector(0.8, 0.1)]),
        Spline([GVector(0.1, 0.5), GVector(0.3, 0.3), GVector(0.5, 0.7),
                GVector(0.9, 0.5)]),
    ]
    game = ChaosGame(splines, 0.25, rnd)
    w = h = 64
    grid = [[0] * w for _ in range(h)]
    p = GVector(0.5, 0.5)
    for _ in range(iterations):
        p = game.transform(p)
        p = GVector(p.x % 1.0, p.y % 1.0)
        grid[int(p.y * h) % h][int(p.x * w) % w] += 1
    return sum(sum(v * (i + 1) for i, v in enumerate(row)) * (j + 1)
               for j, row in enumerate(grid)), round(p.x, 9), round(p.y, 9)


# --------------------------------------------------------------------------
# go: random playouts on a 9x9 board under a UCT tree

EMPTY, BLACK, WHITE = 0, 1, 2
GO_SIZE = 9
PASS = -1


class GoBoard:
    def __init__(self):
        n = GO_SIZE * GO_SIZE
        self.colour = [EMPTY] * n
        self.turn = BLACK
        self.ko = None
        self.passes = 0
        self.neighbours = [self._neighbours(i) for i in range(n)]

    @staticmethod
    def _neighbours(i):
        x, y = i % GO_SIZE, i // GO_SIZE
        out = []
        if x > 0:
            out.append(i - 1)
        if x < GO_SIZE - 1:
            out.append(i + 1)
        if y > 0:
            out.append(i - GO_SIZE)
        if y < GO_SIZE - 1:
            out.append(i + GO_SIZE)
        return out

    def copy(self):
        b = GoBoard.__new__(GoBoard)
        b.colour = self.colour[:]
        b.turn, b.ko, b.passes = self.turn, self.ko, self.passes
        b.neighbours = self.neighbours
        return b

    def group(self, start):
        """(stones, has_liberty) of the group at start."""
        c = self.colour[start]
        stones, todo, free = {start}, [start], False
        while todo:
            i = todo.pop()
            for j in self.neighbours[i]:
                cj = self.colour[j]
                if cj == EMPTY:
                    free = True
                elif cj == c and j not in stones:
                    stones.add(j)
                    todo.append(j)
        return stones, free

    def legal(self, i):
        if self.colour[i] != EMPTY or i == self.ko:
            return False
        me, them = self.turn, 3 - self.turn
        for j in self.neighbours[i]:
            if self.colour[j] == EMPTY:
                return True
        self.colour[i] = me
        try:
            for j in self.neighbours[i]:
                if self.colour[j] == them and not self.group(j)[1]:
                    return True  # captures
            return self.group(i)[1]  # else: not suicide
        finally:
            self.colour[i] = EMPTY

    def eye_like(self, i):
        """True when every neighbour is the player's own stone: playing there
        in a random playout only fills its own eye."""
        me = self.turn
        return all(self.colour[j] == me for j in self.neighbours[i])

    def play(self, i):
        if i == PASS:
            self.passes += 1
            self.ko = None
            self.turn = 3 - self.turn
            return
        self.passes = 0
        me, them = self.turn, 3 - self.turn
        self.colour[i] = me
        captured = []
        for j in self.neighbours[i]:
            if self.colour[j] == them:
                stones, free = self.group(j)
                if not free:
                    captured.extend(stones)
                    for s in stones:
                        self.colour[s] = EMPTY
        self.ko = captured[0] if len(captured) == 1 else None
        self.turn = them

    def moves(self):
        return [i for i in range(GO_SIZE * GO_SIZE)
                if self.colour[i] == EMPTY and self.legal(i)]

    def random_move(self, rnd):
        empties = [i for i, c in enumerate(self.colour) if c == EMPTY]
        while empties:
            k = rnd.below(len(empties))
            i = empties[k]
            if self.legal(i) and not self.eye_like(i):
                return i
            empties[k] = empties[-1]
            empties.pop()
        return PASS

    def score(self, colour):
        """Area score of `colour` minus the other's (komi 7.5)."""
        points = {BLACK: 0, WHITE: 0}
        for i, c in enumerate(self.colour):
            if c != EMPTY:
                points[c] += 1
            else:
                around = {self.colour[j] for j in self.neighbours[i]}
                if len(around) == 1:
                    owner = around.pop()
                    if owner != EMPTY:
                        points[owner] += 1
        diff = points[BLACK] - points[WHITE] - 7.5
        return diff if colour == BLACK else -diff


class UctNode:
    __slots__ = ("move", "parent", "children", "untried", "wins", "visits",
                 "player")

    def __init__(self, move, parent, board):
        self.move, self.parent = move, parent
        self.children = []
        self.untried = board.moves()
        self.wins = self.visits = 0
        self.player = 3 - board.turn  # who made `move`

    def select(self):
        log_n = math.log(self.visits)
        return max(self.children, key=lambda c: c.wins / c.visits
                   + math.sqrt(2.0 * log_n / c.visits))

    def expand(self, board, rnd):
        move = self.untried.pop(rnd.below(len(self.untried)))
        board.play(move)
        child = UctNode(move, self, board)
        self.children.append(child)
        return child

    def update(self, won):
        self.visits += 1
        self.wins += won


def go_playout(board, rnd):
    for _ in range(3 * GO_SIZE * GO_SIZE):
        if board.passes >= 2:
            break
        board.play(board.random_move(rnd))


def go_best_move(board, games, rnd):
    root = UctNode(None, None, board)
    for _ in range(games):
        node, b = root, board.copy()
        while not node.untried and node.children:
            node = node.select()
            b.play(node.move)
        if node.untried:
            node = node.expand(b, rnd)
        go_playout(b, rnd)
        while node is not None:
            node.update(1 if b.score(node.player) > 0 else 0)
            node = node.parent
    best = max(root.children, key=lambda c: c.visits)
    return best.move, best.visits


def go(games):
    """Two moves, each chosen from `games` playouts."""
    rnd = Lcg(42)
    board = GoBoard()
    moves = []
    for _ in range(2):
        move, visits = go_best_move(board, games, rnd)
        moves.append((move, visits))
        board.play(move)
    return moves, board.colour.count(BLACK), board.colour.count(WHITE)


# --------------------------------------------------------------------------
# hexiom: tiles on a hexagonal board, each saying how many neighbours hold
# tiles

class HexBoard:
    """A hexagon of hexagonal cells, radius r, in axial coordinates."""

    DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))

    def __init__(self, radius):
        self.cells = [(q, r) for q in range(-radius, radius + 1)
                      for r in range(-radius, radius + 1)
                      if abs(q + r) <= radius]
        index = {c: i for i, c in enumerate(self.cells)}
        self.neighbours = []
        for q, r in self.cells:
            self.neighbours.append([index[(q + dq, r + dr)]
                                    for dq, dr in self.DIRECTIONS
                                    if (q + dq, r + dr) in index])


UNKNOWN, VACANT = -2, -1


class HexSolver:
    """Places a multiset of numbered tiles on the board's cells (the rest
    stay vacant) so that every tile's number is its count of occupied
    neighbours. Backtracking over the cells, pruning on every neighbour's
    bounds after each choice."""

    def __init__(self, board, tiles):
        self.board = board
        self.counts = collections.Counter(tiles)
        self.vacancies = len(board.cells) - len(tiles)
        self.state = [UNKNOWN] * len(board.cells)
        self.solutions = 0
        self.first = None
        self.nodes = 0

    def consistent(self, cell):
        """Whether the tiles at and around `cell` can still be satisfied."""
        for c in [cell] + self.board.neighbours[cell]:
            n = self.state[c]
            if n < 0:
                continue
            occupied = unknown = 0
            for d in self.board.neighbours[c]:
                s = self.state[d]
                if s == UNKNOWN:
                    unknown += 1
                elif s != VACANT:
                    occupied += 1
            if occupied > n or occupied + unknown < n:
                return False
        return True

    def choices(self):
        out = [n for n in sorted(self.counts) if self.counts[n]]
        if self.vacancies:
            out.append(VACANT)
        return out

    def solve(self, cell=0):
        self.nodes += 1
        if cell == len(self.state):
            self.solutions += 1
            if self.first is None:
                self.first = tuple(self.state)
            return
        for choice in self.choices():
            self.state[cell] = choice
            if choice == VACANT:
                self.vacancies -= 1
            else:
                self.counts[choice] -= 1
            if self.consistent(cell):
                self.solve(cell + 1)
            if choice == VACANT:
                self.vacancies += 1
            else:
                self.counts[choice] += 1
        self.state[cell] = UNKNOWN


def hexiom_puzzle(radius, seed):
    """The tiles of a solvable puzzle: a random occupancy's counts."""
    board = HexBoard(radius)
    rnd = Lcg(seed)
    occupied = [rnd.below(3) != 0 for _ in board.cells]
    tiles = [sum(occupied[j] for j in board.neighbours[i])
             for i, o in enumerate(occupied) if o]
    return board, tiles


# the puzzles solved per board radius: on radius 2, one whose search takes
# about 100 ms on 3.12 (seeds differ by 10x); on radius 1 (the --quick
# size), eight small ones
HEXIOM_SEEDS = {1: range(1, 9), 2: (4,)}


def hexiom(radius):
    found = []
    for seed in HEXIOM_SEEDS[radius]:
        board, tiles = hexiom_puzzle(radius, seed)
        solver = HexSolver(board, tiles)
        solver.solve()
        found.append((solver.solutions, solver.nodes, solver.first))
    return found


# --------------------------------------------------------------------------
# float: many Point objects, normalised and maximised

class Point:
    __slots__ = ("x", "y", "z")

    def __init__(self, i):
        self.x = x = math.sin(i)
        self.y = math.cos(i) * 3
        self.z = (x * x) / 2

    def normalise(self):
        norm = math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= norm
        self.y /= norm
        self.z /= norm

    def maximise(self, other):
        self.x = self.x if self.x > other.x else other.x
        self.y = self.y if self.y > other.y else other.y
        self.z = self.z if self.z > other.z else other.z
        return self


def float_points(n):
    points = [Point(i) for i in range(n)]
    for p in points:
        p.normalise()
    best = points[0]
    for p in points[1:]:
        best = best.maximise(p)
    return round(best.x, 12), round(best.y, 12), round(best.z, 12)


# --------------------------------------------------------------------------
# nqueens: permutations and generators

def queens(n):
    """Every placement of n queens, one per row and column, none attacking:
    the permutations whose two diagonal sets are full."""
    columns = range(n)
    for perm in _permutations(list(columns)):
        if (len({perm[i] + i for i in columns}) == n
                and len({perm[i] - i for i in columns}) == n):
            yield perm


def _permutations(items):
    """Every ordering of items, lexicographically, by a generator (the
    standard algorithm: next permutation in place)."""
    a = sorted(items)
    n = len(a)
    while True:
        yield tuple(a)
        i = n - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            return
        j = n - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1:] = reversed(a[i + 1:])


def nqueens(n):
    solutions = list(queens(n))
    return len(solutions), solutions[0], solutions[-1]


# --------------------------------------------------------------------------
# unpack_sequence: straight-line unpackings
#
# The body is generated once at import: 40 unpackings of a 10-tuple and 40
# of a 10-list, each followed by a swap, so that the loop is all
# UNPACK_SEQUENCE and stores, with no calls.

def _make_unpackers():
    lines = []
    for kind in ("tup", "lst"):
        lines.append("def _unpack_%s(seq, loops):" % kind)
        lines.append("    total = 0")
        lines.append("    for _ in range(loops):")
        for _ in range(40):
            lines.append("        a, b, c, d, e, f, g, h, i, j = seq")
            lines.append("        a, j = j, a")
        lines.append("        total += a + j")
        lines.append("    return total")
    ns = {}
    exec(compile("\n".join(lines) + "\n", __file__, "exec"), ns)
    return ns["_unpack_tup"], ns["_unpack_lst"]


_unpack_tup, _unpack_lst = _make_unpackers()


def unpack_sequence(loops):
    return (_unpack_tup(tuple(range(10)), loops),
            _unpack_lst(list(range(10, 20)), loops))


# --------------------------------------------------------------------------

Workload = collections.namedtuple("Workload", "func size quick describe")

# name -> Workload(callable, default size, --quick size, size -> description),
# in pyperformance's order of the list
WORKLOADS = collections.OrderedDict([
    ("richards", Workload(richards, 8000, 100, "{} jobs".format)),
    ("deltablue", Workload(deltablue, 4000, 40, "{} variables".format)),
    ("raytrace", Workload(raytrace, 50, 6, "{0}x{0} pixels".format)),
    ("json_dumps", Workload(json_dumps, 100, 2, "{} repeats".format)),
    ("logging", Workload(logging, 2000, 20, "{} rounds".format)),
    ("nbody", Workload(nbody, 6000, 40, "{} steps".format)),
    ("chaos", Workload(chaos, 12000, 200, "{} iterations".format)),
    ("go", Workload(go, 6, 1, "2 moves x {} playouts".format)),
    ("hexiom", Workload(hexiom, 2, 1, "radius {} board".format)),
    ("float", Workload(float_points, 70000, 1000, "{} points".format)),
    ("nqueens", Workload(nqueens, 8, 6, "n = {}".format)),
    ("unpack_sequence", Workload(unpack_sequence, 40000, 400,
                                 "{} loops x 80 unpackings".format)),
])
