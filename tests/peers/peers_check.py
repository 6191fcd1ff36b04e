"""The assertion helper of the Python tests in this folder (peers.modes, peers.decode,
emit.peer_inprocess): check() reports a failed condition and counts it, so one run lists
every failure; finish() ends the test with exit 1 if any, else prints its ok line."""
import sys

failures = 0


def check(cond, what):
    global failures
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        failures += 1


def finish(ok_line):
    if failures:
        print(f"{failures} failure(s)", file=sys.stderr)
        sys.exit(1)
    print(ok_line)
