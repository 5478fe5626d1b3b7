"""A long-running program for test_attach.py: worker threads (one started
before any attach, one started later) and the main thread call work() until
the file named by argv[1] appears; each thread counts its calls made while
a tracestore session is active (the oracle). Prints 'ready', then at the
end one JSON line: {thread name: calls while recording}."""

import json
import os
import sys
import threading
import time

stop_file = sys.argv[1]
counts = {}


def recording():
    # (tracestore may be half imported: the payload is importing it)
    is_active = getattr(sys.modules.get("tracestore"), "is_active", None)
    return is_active is not None and is_active()


def work(n):
    if recording():
        name = threading.current_thread().name
        counts[name] = counts.get(name, 0) + 1
    return sum(range(n))


def loop():
    while not os.path.exists(stop_file):
        work(50)
        time.sleep(0.001)


early = threading.Thread(target=loop, name="early")
early.start()
print("ready", flush=True)
late = None
deadline = time.monotonic() + 120
while not os.path.exists(stop_file) and time.monotonic() < deadline:
    work(50)
    time.sleep(0.001)
    if late is None and recording():
        late = threading.Thread(target=loop, name="late")
        late.start()
early.join()
if late is not None:
    late.join()
print(json.dumps(counts), flush=True)
