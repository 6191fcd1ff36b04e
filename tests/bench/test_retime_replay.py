#!/usr/bin/env python3
"""bench/retime_replay.py on a hand-made trace: the port of the racing rules stops jobs where
the harness does (tests/harness test_harness_cpu's stats case holds the C side to the same
figures), "time" lines are not jobs, and a rule's pick is judged against the full rounds."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import retime_replay as R  # noqa: E402

fails = 0


def check(cond, what):
    global fails
    if not cond:
        print("FAIL:", what)
        fails += 1


# Job a: the fastest, 1.0 ms. Job b: 6-7% behind in both of its first two rounds (over the
# margin, 1.05, in both: out after 2 rounds now, after 3 before). Job c: 1.2% behind, steady
# (never raced; known to be behind, so the group is settled at its 5th round). Job d: 12%
# behind (out after one round).
rounds = 12
a = [1.0 + 0.001 * (k % 3) for k in range(rounds)]
b = [x * r for x, r in zip(a, [1.06, 1.07] + [1.065] * (rounds - 2))]
c = [x * 1.012 for x in a]
d = [x * 1.12 for x in a]
P = "b4_h16_kv4_q4096_k4096_d128_bf16"
Q = "b1_h16_kv4_q16384_k16384_d128_bf16"  # another rung-0 problem of the class
# Rung 0 (time lines): on P, c ranks first and a second, v1 was raced out; on Q, a is first.
text = f"time {P} c 0 1 0.5\ntime {P} a 0 1 0.6\ntime {P} v1 1 1 0.4\n" \
    f"time {Q} a 0 1 2.0\ntime {Q} c 0 1 2.1\ngroup {P} 4\n" + "".join(
        f"{n} 0 {rounds} " + " ".join(f"{t:.9g}" for t in xs) + "\n"
        for n, xs in (("a", a), ("b", b), ("c", c), ("d", d))) + \
    f"group {Q} 2\nx 0 0\ny 0 0\n"  # a group whose round failed: no job has a time
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "trace.txt")
    with open(path, "w") as f:
        f.write(text)
    times = {}
    groups = R.parse(path, times)
    check(len(groups) == 1 and [j["name"] for j in groups[0]["jobs"]] == ["a", "b", "c", "d"],
          f"parsed groups {groups}")
    check(times[P] == {"c": (0, 1, 0.5), "a": (0, 1, 0.6), "v1": (1, 1, 0.4)} and
          times[Q] == {"a": (0, 1, 2.0), "c": (0, 1, 2.1)}, f"time lines {times}")

    now, pick, short = R.replay(groups[0], R.Rule("current"))
    check(now[1] == 2 and now[3] == 1, f"current: b after 2 rounds, d after 1: {now}")
    check(now[0] == now[2] == 5, f"current: a and c settled at round 5: {now}")
    check(groups[0]["jobs"][pick]["name"] == "a" and short == 0, f"current picks a: {pick}")
    before, _, _ = R.replay(groups[0], R.Rule("before", two_min=False))
    check(before[1] == 3, f"before the 2-round rule b ran 3 rounds: {before}")

    truth = R.true_ratios(groups[0])
    check(abs(truth["c"] - 1.012) < 1e-3 and abs(truth["a"] - 1) < 1e-12, f"truth {truth}")
    # The best (a) is 2nd on the nearest rung-0 problem (P itself; the raced v1 ranks last),
    # 1st on Q: the best rank of a variant within 1% of it (a alone) is 1.
    ranks = R.rung0_ranks(groups, times, {P: truth})
    check(ranks == [(2, 1, P)], f"rung-0 ranks {ranks}")

    out = subprocess.run([sys.executable, os.path.join(sys.argv[1], "retime_replay.py"), path,
                          "--rule", "current", "--rule", "before_two_min"],
                         capture_output=True, text=True)
    check(out.returncode == 0, f"exit {out.returncode}: {out.stderr}")
    rows = [r for r in out.stdout.splitlines() if r.startswith("| current") or
            r.startswith("| before")]
    check(len(rows) == 2, f"table rows: {out.stdout}")
    check(rows and rows[0].split("|")[2].strip() == str(sum(now)),
          f"current's rounds {sum(now)} in {rows}")
print("retime_replay:", "ok" if not fails else f"{fails} failure(s)")
sys.exit(1 if fails else 0)
