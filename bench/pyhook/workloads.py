"""The workloads of the overhead benchmark (overhead.py).

They live in their own module so that the benchmark's "excluded" mode can
filter the whole hot path out with exclude=["workloads"] while the harness
(module __main__) stays recorded.

Each workload is a callable taking one size argument and returning a value
that depends on every step of the computation, so that the harness can check
that tracing did not change the program's result. DEFAULT sizes take roughly
30-100 ms untraced on CPython 3.12 on the reference machines; QUICK sizes keep
the ctest smoke run short.

    fib      recursive Fibonacci, fib(25) (repeated): nothing but calls and
             returns.
    richards an operating-system-like task scheduler, in the spirit of
             pyperformance's richards (written from scratch here): classes,
             linked message queues and many small method calls.
    nbody    an n-body gravity simulation, in the spirit of pyperformance's
             nbody (written from scratch here), but call-heavy: each pair
             interaction goes through small helper functions and methods.
"""

import collections
import math


# --------------------------------------------------------------------------
# fib

def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def fib_runs(runs, n=25):
    """fib(25) `runs` times: one fib(25) is only ~6 ms on 3.12, too short to
    time well on a noisy machine; repeating it changes no ratio."""
    total = 0
    for _ in range(runs):
        total += fib(n)
    return total


# --------------------------------------------------------------------------
# richards-style scheduler
#
# A producer task makes jobs; a router hands them to one of two workers; the
# workers process them and pass results to a printer task, which holds on to
# its paper supply and asks the supply task for more now and then. Tasks only
# talk through messages; the scheduler always runs the highest-priority task
# that has something to do. Messages are recycled through a free pool.

# message kinds
JOB = 0
RESULT = 1
PAPER = 2
START = 3

IN_FLIGHT = 4  # jobs the producer keeps under way


class Message:
    __slots__ = ("next", "kind", "sender", "payload", "stamp")

    def __init__(self, kind, sender, size):
        self.next = None
        self.kind = kind
        self.sender = sender
        self.payload = [0] * size
        self.stamp = 0

    def reset(self, kind, sender):
        self.next = None
        self.kind = kind
        self.sender = sender
        self.stamp = 0
        return self


class Queue:
    """A singly linked FIFO of messages."""

    __slots__ = ("head", "tail", "count")

    def __init__(self):
        self.head = None
        self.tail = None
        self.count = 0

    def is_empty(self):
        return self.head is None

    def push(self, msg):
        msg.next = None
        if self.tail is None:
            self.head = msg
        else:
            self.tail.next = msg
        self.tail = msg
        self.count += 1

    def pop(self):
        msg = self.head
        if msg is not None:
            self.head = msg.next
            if self.head is None:
                self.tail = None
            msg.next = None
            self.count -= 1
        return msg


class Random:
    """A small linear congruential generator, deterministic everywhere."""

    __slots__ = ("state",)

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state

    def below(self, n):
        return self.next() % n


class Task:
    __slots__ = ("name", "priority", "inbox", "blocked", "scheduler",
                 "steps")

    def __init__(self, name, priority, scheduler):
        self.name = name
        self.priority = priority
        self.inbox = Queue()
        self.blocked = False
        self.scheduler = scheduler
        self.steps = 0

    def is_runnable(self):
        return not self.blocked and not self.inbox.is_empty()

    def block(self):
        self.blocked = True

    def unblock(self):
        self.blocked = False

    def deliver(self, msg):
        self.inbox.push(msg)

    def send(self, target, msg):
        msg.stamp = self.scheduler.tick()
        self.scheduler.post(target, msg)

    def step(self):
        msg = self.inbox.pop()
        self.steps += 1
        self.handle(msg)

    def handle(self, msg):  # overridden
        raise NotImplementedError


class Producer(Task):
    __slots__ = ("remaining", "rng", "pool", "router", "made")

    def __init__(self, scheduler, jobs, router):
        super().__init__("producer", 1, scheduler)
        self.remaining = jobs
        self.rng = Random(42)
        self.pool = Queue()
        self.router = router
        self.made = 0

    def recycle(self, msg):
        self.pool.push(msg)

    def fresh_message(self):
        msg = self.pool.pop()
        if msg is None:
            return Message(JOB, self, 8)
        return msg.reset(JOB, self)

    def fill(self, msg):
        payload = msg.payload
        for i in range(len(payload)):
            payload[i] = self.rng.below(256)

    def launch(self):
        if self.remaining > 0:
            job = self.fresh_message()
            self.fill(job)
            self.remaining -= 1
            self.made += 1
            self.send(self.router, job)

    def handle(self, msg):
        # a returned job frees its message for the next one; the kick-off
        # message starts IN_FLIGHT jobs
        if msg.kind == JOB:
            self.recycle(msg)
            self.launch()
        else:
            for _ in range(IN_FLIGHT):
                self.launch()


class Router(Task):
    __slots__ = ("workers", "routed")

    def __init__(self, scheduler):
        super().__init__("router", 4, scheduler)
        self.workers = []
        self.routed = 0

    def choose(self, msg):
        return self.workers[msg.payload[0] & 1]

    def handle(self, msg):
        self.routed += 1
        self.send(self.choose(msg), msg)


class Worker(Task):
    __slots__ = ("printer", "producer", "total")

    def __init__(self, name, scheduler, printer, producer):
        super().__init__(name, 3, scheduler)
        self.printer = printer
        self.producer = producer
        self.total = 0

    def mix(self, acc, value):
        return ((acc << 5) ^ (acc >> 3) ^ value) & 0xFFFF

    def digest(self, payload):
        acc = 17
        for value in payload:
            acc = self.mix(acc, value)
        return acc

    def handle(self, msg):
        acc = self.digest(msg.payload)
        self.total = (self.total + acc) & 0xFFFFFF
        result = self.scheduler.result_message(self, acc)
        self.send(self.printer, result)
        self.send(self.producer, msg)  # hand the job message back


class Printer(Task):
    """Prints results until its paper runs out, then blocks until the supply
    task delivers more (into a separate tray, so that it is seen while the
    inbox is held)."""

    __slots__ = ("paper", "supply", "tray", "printed", "checksum")

    def __init__(self, scheduler, supply):
        super().__init__("printer", 2, scheduler)
        self.paper = 5
        self.supply = supply
        self.tray = Queue()
        self.printed = 0
        self.checksum = 0

    def deliver(self, msg):
        if msg.kind == PAPER:
            self.tray.push(msg)
        else:
            self.inbox.push(msg)

    def is_runnable(self):
        if not self.tray.is_empty():
            return True
        return not self.blocked and not self.inbox.is_empty()

    def print_line(self, value):
        self.paper -= 1
        self.printed += 1
        self.checksum = (self.checksum * 31 + value) & 0xFFFFFFF

    def step(self):
        self.steps += 1
        refill = self.tray.pop()
        if refill is not None:
            self.paper += refill.payload[0]
            self.unblock()
            self.scheduler.free_result(refill)
            return
        msg = self.inbox.pop()
        self.print_line(msg.payload[0])
        self.scheduler.free_result(msg)
        if self.paper == 0:
            self.block()
            request = self.scheduler.result_message(self, 0)
            self.send(self.supply, request)


class Supply(Task):
    __slots__ = ("rng", "refills")

    def __init__(self, scheduler):
        super().__init__("supply", 5, scheduler)
        self.rng = Random(7)
        self.refills = 0

    def handle(self, msg):
        self.refills += 1
        msg.kind = PAPER
        msg.payload[0] = 3 + self.rng.below(5)
        self.send(msg.sender, msg)


class Scheduler:
    __slots__ = ("tasks", "clock", "switches", "free_results")

    def __init__(self):
        self.tasks = []
        self.clock = 0
        self.switches = 0
        self.free_results = Queue()

    def add(self, task):
        self.tasks.append(task)
        self.tasks.sort(key=lambda t: -t.priority)
        return task

    def tick(self):
        self.clock += 1
        return self.clock

    def post(self, target, msg):
        target.deliver(msg)

    def result_message(self, sender, value):
        msg = self.free_results.pop()
        if msg is None:
            msg = Message(RESULT, sender, 1)
        else:
            msg.reset(RESULT, sender)
        msg.payload[0] = value
        return msg

    def free_result(self, msg):
        self.free_results.push(msg)

    def pick(self):
        for task in self.tasks:
            if task.is_runnable():
                return task
        return None

    def run(self):
        while True:
            task = self.pick()
            if task is None:
                return
            self.switches += 1
            task.step()


def richards(jobs):
    sched = Scheduler()
    supply = sched.add(Supply(sched))
    printer = sched.add(Printer(sched, supply))
    router = sched.add(Router(sched))
    producer = sched.add(Producer(sched, jobs, router))
    router.workers = [
        sched.add(Worker("worker-a", sched, printer, producer)),
        sched.add(Worker("worker-b", sched, printer, producer)),
    ]
    producer.deliver(Message(START, None, 1))  # kick-off
    sched.run()
    return (sched.switches, printer.printed, printer.checksum,
            supply.refills, sum(w.total for w in router.workers))


# --------------------------------------------------------------------------
# nbody-style simulation
#
# A heavy central body and a few light ones on near-circular orbits, built
# from a fixed recipe (no random input). Every pair interaction calls helper
# functions for the separation and the force factor, and a method per body
# for the velocity change; every body drifts through a method call.

class Body:
    __slots__ = ("x", "y", "z", "vx", "vy", "vz", "mass")

    def __init__(self, x, y, z, vx, vy, vz, mass):
        self.x, self.y, self.z = x, y, z
        self.vx, self.vy, self.vz = vx, vy, vz
        self.mass = mass

    def kick(self, dx, dy, dz, factor):
        self.vx += dx * factor
        self.vy += dy * factor
        self.vz += dz * factor

    def drift(self, dt):
        self.x += self.vx * dt
        self.y += self.vy * dt
        self.z += self.vz * dt

    def kinetic(self):
        return 0.5 * self.mass * squared_norm(self.vx, self.vy, self.vz)


def squared_norm(x, y, z):
    return x * x + y * y + z * z


def separation(a, b):
    return a.x - b.x, a.y - b.y, a.z - b.z


def inverse_cube(dx, dy, dz):
    d2 = squared_norm(dx, dy, dz)
    return 1.0 / (d2 * math.sqrt(d2))


def interact(a, b, dt):
    dx, dy, dz = separation(a, b)
    mag = dt * inverse_cube(dx, dy, dz)
    a.kick(dx, dy, dz, -b.mass * mag)
    b.kick(dx, dy, dz, a.mass * mag)


def advance(bodies, pairs, dt):
    for a, b in pairs:
        interact(a, b, dt)
    for body in bodies:
        body.drift(dt)


def potential(a, b):
    dx, dy, dz = separation(a, b)
    return -a.mass * b.mass / math.sqrt(squared_norm(dx, dy, dz))


def energy(bodies, pairs):
    e = 0.0
    for body in bodies:
        e += body.kinetic()
    for a, b in pairs:
        e += potential(a, b)
    return e


def make_system(n_light=5):
    g_mass = 4.0 * math.pi * math.pi  # central mass in AU^3 / yr^2 units
    bodies = [Body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, g_mass)]
    for i in range(n_light):
        r = 1.5 + 2.25 * i
        phase = 0.9 * i + 0.3
        tilt = 0.02 * (i - 2)
        speed = math.sqrt(g_mass / r)
        mass = g_mass * (1e-3 / (i + 1))
        bodies.append(Body(r * math.cos(phase), r * math.sin(phase),
                           r * tilt,
                           -speed * math.sin(phase), speed * math.cos(phase),
                           0.01 * speed * tilt, mass))
    # give the system zero total momentum
    px = sum(b.vx * b.mass for b in bodies)
    py = sum(b.vy * b.mass for b in bodies)
    pz = sum(b.vz * b.mass for b in bodies)
    sun = bodies[0]
    sun.vx, sun.vy, sun.vz = -px / sun.mass, -py / sun.mass, -pz / sun.mass
    return bodies


def nbody(steps, dt=0.001):
    bodies = make_system()
    pairs = [(bodies[i], bodies[j])
             for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    e0 = energy(bodies, pairs)
    for _ in range(steps):
        advance(bodies, pairs, dt)
    # rounded so that the result is a stable fingerprint of the run
    return round(e0, 9), round(energy(bodies, pairs), 9)


# --------------------------------------------------------------------------

Workload = collections.namedtuple("Workload", "func size quick describe")

# name -> Workload(callable, default size, --quick size, size -> description)
WORKLOADS = {
    "fib": Workload(fib_runs, 8, 1, "fib(25) x {}".format),
    "richards": Workload(richards, 8000, 100, "{} jobs".format),
    "nbody": Workload(nbody, 6000, 40, "{} steps".format),
}
