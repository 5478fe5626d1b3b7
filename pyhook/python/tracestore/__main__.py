"""python -m tracestore: see tracestore/_cli.py."""

import sys

from tracestore._cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
