#!/usr/bin/env python3
"""bench/ab_bench.py against a fake fa-tune: the arms' environment, arguments and binaries reach
the runs, rounds alternate the arms' order, the table's change and 'apart' are right, and a
failed check stops the spec with exit status 3.

    test_ab_bench.py BENCH_DIR WORK_DIR
"""
import json
import os
import stat
import subprocess
import sys

bench, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
log = os.path.join(work, "calls.log")

# The fake: median = 100 us x FAKE_FACTOR (x 1.02 with --layout bhsd), + 0.02 us per repeat
# index; FAKE_STATUS replaces "ok" on timed runs. Every call is logged with its arm's marks.
FAKE = r'''#!/usr/bin/env python3
import json, os, sys
a = sys.argv[1:]
assert a[0] == "bench" and a[1] == "--variant", a
f = float(os.environ.get("FAKE_FACTOR", "1")) * (1.02 if "bhsd" in a else 1.0)
f *= float(os.environ.get("FAKE_BIN_FACTOR", "1"))
timed = "--repeat" in a
n = int(a[a.index("--repeat") + 1]) if timed else 1
st = os.environ.get("FAKE_STATUS", "ok") if timed else "ok"
with open(os.environ["FAKE_LOG"], "a") as L:
    L.write("%s %s %s\n" % (os.environ.get("ARM", "?"), "timed" if timed else "warm",
                            " ".join(a[2:])))
for r in range(n):
    print(json.dumps({"method": a[2], "status": st, "repeat": r,
                      "median_ms": (100.0 * f + 0.02 * r) / 1000.0, "message": ""}))
    if st != "ok":
        break
'''


def write_fake(path, factor=None):
    with open(path, "w") as f:
        text = FAKE
        if factor:
            text = text.replace('"FAKE_BIN_FACTOR", "1"', f'"FAKE_BIN_FACTOR", "{factor}"')
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


fake = os.path.join(work, "fa-tune")
fake2 = os.path.join(work, "fa-tune-other")
write_fake(fake)
write_fake(fake2, factor="0.9")
fails = 0


def check(cond, what):
    global fails
    print(("ok   " if cond else "FAIL ") + what)
    fails += 0 if cond else 1


def ab(*arms, specs=("v1 --batch 2",), rounds=3, extra=()):
    if os.path.exists(log):
        os.remove(log)
    cmd = [sys.executable, os.path.join(bench, "ab_bench.py"), "--fa-tune", fake,
           "--rounds", str(rounds), "--repeat", "2", *extra]
    for arm in arms:
        cmd += ["--arm", arm]
    cmd += list(specs)
    p = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, FAKE_LOG=log))
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    return p, calls


# 1. an environment arm 5% slower, ranges apart; order alternates; compile runs come first
p, calls = ab("A=ARM=A", "B=ARM=B FAKE_FACTOR=1.05")
check(p.returncode == 0, f"two arms: exit 0 (got {p.returncode}: {p.stderr.strip()})")
row_b = [l for l in p.stdout.splitlines() if l.startswith("| v1 --batch 2 | B |")]
check(len(row_b) == 1 and "| 105.01 |" in row_b[0] and "+5.00%" in row_b[0]
      and "apart" in row_b[0], f"B's row: 105.01 us, +5.00%, apart: {row_b}")
order = [c.split()[0] for c in calls if " timed " in c]
check(order == ["A", "B", "B", "A", "A", "B"], f"rounds alternate A B, B A, A B: {order}")
check([c.split()[:2] for c in calls[:2]] == [["A", "warm"], ["B", "warm"]],
      f"each arm compiled and checked once first: {calls[:2]}")
check(all(c.split()[2:5] == ["v1", "--batch", "2"] for c in calls),
      "the spec's variant and arguments reach every run")

# 2. an argument arm: passed after the spec, 2% slower
p, calls = ab("bshd=ARM=A --layout bshd", "bhsd=ARM=B --layout bhsd")
timed_b = [c for c in calls if c.startswith("B timed")]
check(timed_b and all("--layout bhsd --no-eager" in c for c in timed_b),
      f"an arm's arguments follow the spec: {timed_b[:1]}")
check("+2.00%" in p.stdout, "a 2% slower arm reads +2.00%")

# 3. equal arms overlap
p, _ = ab("A", "B")
row_b = [l for l in p.stdout.splitlines() if l.startswith("| v1 --batch 2 | B |")]
check(row_b and "overlap" in row_b[0] and "+0.00%" in row_b[0], f"equal arms overlap: {row_b}")

# 4. bin= runs another binary (this one 10% faster)
p, _ = ab("A", f"B=bin={fake2}")
check("-10.00%" in p.stdout and "apart" in p.stdout, "bin= runs the other binary: -10.00%")

# 5. a mismatch stops the spec, the next spec still runs, exit 3
p, calls = ab("A=ARM=A", "B=ARM=B FAKE_STATUS=mismatch", specs=("v1", "v2"), rounds=2)
check(p.returncode == 3, f"a mismatch exits 3 (got {p.returncode})")
check("v1: stopped, B: mismatch" in p.stdout, "the stopped spec says why")
check(any(c.split()[2] == "v2" for c in calls), "the next spec still runs")

# 6. usage errors: one arm, duplicate labels, no spec
for arms, specs, what in ((("A",), ("v1",), "one arm"), (("A", "A"), ("v1",), "same labels"),
                          (("A", "B"), (), "no spec")):
    p, _ = ab(*arms, specs=specs)
    check(p.returncode == 2, f"{what}: usage error (exit {p.returncode})")

# 7. --specs FILE with comments, and --out
sf = os.path.join(work, "specs.txt")
with open(sf, "w") as f:
    f.write("# a comment\nv3 --heads 4  # trailing\n\n")
out = os.path.join(work, "table.md")
p, calls = ab("A", "B", specs=(), extra=("--specs", sf, "--out", out))
check(p.returncode == 0 and all(c.split()[2:5] == ["v3", "--heads", "4"] for c in calls),
      "--specs reads one spec a line without comments")
check(os.path.exists(out) and "| v3 --heads 4 | B |" in open(out).read(), "--out writes the table")

sys.exit(1 if fails else 0)
