"""Workloads for the exactness tests: stdlib-heavy, threaded, generators."""

import asyncio
import difflib
import json
import re
import textwrap
import threading

TEXT = """The quick brown fox jumps over the lazy dog. Pack my box with five
dozen liquor jugs. How vexingly quick daft zebras jump! Sphinx of black quartz,
judge my vow.""" * 3


def stdlib_work():
    data = {"items": [{"id": i, "name": "n%d" % i, "tags": ["a", "b"]}
                      for i in range(40)]}
    text = json.dumps(data, indent=2, sort_keys=True)
    back = json.loads(text)
    words = re.findall(r"\b\w+\b", TEXT)
    subbed = re.sub(r"(qu)(\w+)", lambda m: m.group(2) + m.group(1), TEXT)
    a = textwrap.wrap(TEXT, 30)
    b = textwrap.wrap(subbed, 34)
    diff = list(difflib.unified_diff(a, b, lineterm=""))
    ratio = difflib.SequenceMatcher(None, TEXT, subbed).ratio()
    dedented = textwrap.dedent("    x\n    y\n")
    return len(back["items"]), len(words), len(diff), round(ratio, 3), dedented


def work(k):
    total = 0
    for i in range(k):
        total += leaf(i)
    return total


def leaf(i):
    return i * 2


def threaded(n_threads=4, k=500):
    threads = [threading.Thread(target=work, args=(k,), name="worker-%d" % i)
               for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(threads)


def gen(n):
    for i in range(n):
        yield i


def raiser():
    raise ValueError("boom")


def catcher():
    try:
        raiser()
    except ValueError:
        return "caught"


async def leaf_coro(i):
    await asyncio.sleep(0)
    return i


async def main_coro():
    total = 0
    for i in range(3):
        total += await leaf_coro(i)
    return total


def generators():
    total = sum(gen(5))
    total += asyncio.run(main_coro())
    catcher()
    return total
