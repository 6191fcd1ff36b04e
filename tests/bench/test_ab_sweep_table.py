#!/usr/bin/env python3
"""bench/ab_sweep_table.py on made-up sweep logs: each run's figures land in its row, the arms'
warm ranges leave out the cold run and failed runs, 'apart' and 'overlap' are right, and a
failed run or an empty log gives exit status 1.

    test_ab_sweep_table.py BENCH_DIR WORK_DIR
"""
import os
import subprocess
import sys

bench, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)


def run_block(name, temp, rc, wall, handling, trips, peak):
    """The lines bench/gpu_run.sh's sweep stage prints for one run (FA_PROFILE on)."""
    return "\n".join([
        "",
        "=== sweep hd128 halving %s (%s cache)  (16:26:35)" % (name, temp),
        "rc %d, wall %.1f s" % (rc, wall + 0.6),
        "wall %.1f s, GPU idle 4%% (1 GPU), 2521.7 variants/min" % wall,
        "fa-tune profile (engine): wall %.1f s, GPU busy %.1f s, database writer 1.8 s for 28449 "
        "records, compiles outstanding 6.5 s, rung 1 11.5 s of GPU" % (wall, wall - 0.7),
        "fa-tune profile (worker 0): 4910 messages, %.1f s handling them: payloads 0.0 s" % handling,
        "fa-tune profile (worker 0, parent side): 5070 messages, %.1f s from sending each to "
        "reading its answer; cubins sent 457 times" % trips,
        "fa-tune profile (session): run %.1f s (compiler 0.0 s), summary 0.1 s, release 0.1 s, "
        "peak memory %d MB" % (wall + 0.3, peak),
    ])


def table(log_text):
    path = os.path.join(work, "sweeps.log")
    with open(path, "w") as f:
        f.write(log_text + "\n")
    p = subprocess.run([sys.executable, os.path.join(bench, "ab_sweep_table.py"), path],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check(cond, what, out):
    if not cond:
        print("FAIL: %s\n%s" % (what, out))
        sys.exit(1)


# Base warm 20.4 / 20.0 s, new 19.1 / 19.5 s (apart); peaks overlap; the parent's own time
# (round trips - the child's handling) base 0.5 / 0.4, new 0.3 / 0.3 (apart). The cold run's
# 47.1 s and 967 MB must not enter the warm ranges.
log = "".join([
    run_block("nc", "cold", 0, 47.1, 19.0, 19.0, 967),
    run_block("bw1", "warm", 0, 20.4, 18.1, 18.6, 640),
    run_block("nw1", "warm", 0, 19.1, 17.9, 18.2, 650),
    run_block("bw2", "warm", 0, 20.0, 18.0, 18.4, 742),
    run_block("nw2", "warm", 0, 19.5, 18.0, 18.3, 615),
])
rc, out, err = table(log)
check(rc == 0, "exit status 0 (got %d: %s)" % (rc, err), out)
check("| nc | new | cold | 0 | 47.1 | 46.4 | 6.5 | 0.0 | 967 |" in out, "the cold run's row", out)
check("| bw1 | base | warm | 0 | 20.4 | 19.7 | 6.5 | 0.5 | 640 |" in out, "bw1's row", out)
check("| nw2 | new | warm | 0 | 19.5 | 18.8 | 6.5 | 0.3 | 615 |" in out, "nw2's row", out)
check("warm wall s: base 20.0-20.4, new 19.1-19.5: ranges apart" in out, "wall apart", out)
check("warm peak MB: base 640-742, new 615-650: ranges overlap" in out, "peak overlap", out)
check("warm parent outside the child s: base 0.4-0.5, new 0.3-0.3: ranges apart" in out,
      "parent's own time apart", out)

# A failed warm run: exit status 1, its row shown, and its wall kept out of its arm's range.
rc, out, err = table("".join([
    run_block("bw1", "warm", 0, 20.4, 18.1, 18.6, 640),
    run_block("nw1", "warm", 1, 3.0, 1.0, 1.1, 100),
    run_block("nw2", "warm", 0, 19.5, 18.0, 18.3, 615),
]))
check(rc == 1, "a failed run gives exit status 1 (got %d)" % rc, out)
check("| nw1 | new | warm | 1 |" in out, "the failed run's row", out)
check("warm wall s: base 20.4-20.4, new 19.5-19.5: ranges apart" in out,
      "the failed run left out of the range", out)

# A run cut off before its summary: no wall, exit status 1; a log with no run: exit status 1.
rc, out, err = table("\n=== sweep hd128 halving nw1 (warm cache)  (16:26:35)\nrc 0, wall 3.0 s")
check(rc == 1 and "| nw1 | new | warm | 0 | - |" in out, "a run without a summary", out)
rc, out, err = table("=== build (16:25:36)\nbuilt in 40 s")
check(rc == 1 and "no '=== sweep' runs" in err, "a log without runs", err)
print("ok")
