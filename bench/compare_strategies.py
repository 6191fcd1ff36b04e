#!/usr/bin/env python3
"""Compare a cheaper search strategy's winners with the exhaustive ones (issue #6's bar:
within 2% of the exhaustive winner's speed on every problem, in at most 30% of the time).

    python3 bench/compare_strategies.py exhaustive.db halving.db [--retimed recheck.db]
    python3 bench/compare_strategies.py exhaustive.db halving.db --winners

--winners prints the union of both runs' winners as `--variant NAME` arguments: tune them
again into one database with `--race 0 --finalists 8 --force`, so each problem's two winners
are re-timed interleaved in the same call, and pass that database as --retimed. The gap is
then judged from timings taken side by side on the same inputs, not from two runs' separate
single timings (which differ by a few percent run to run).
Without --retimed, the gaps use each run's own final timings. Run times come from the runs
table (start to end of the tuning runs in each file).
"""
import argparse
import sqlite3
import sys
from datetime import datetime


def latest(con, arch):
    """Latest ok TFLOP/s per (problem, variant): interleaved re-timings come last."""
    out = {}
    for prob, var, tf in con.execute(
            """select p.name, v.name, m.tflops from measurements m
               join problems p on p.id = m.problem_id join variants v on v.id = m.variant_id
               where m.arch = ? and m.status = 'ok' and m.tflops > 0 order by m.id""", (arch,)):
        out[(prob, var)] = tf
    return out


def best(lat):
    b = {}
    for (prob, var), tf in lat.items():
        if prob not in b or tf > b[prob][1]:
            b[prob] = (var, tf)
    return b


def wall(con):
    total = 0.0
    f = "%Y-%m-%dT%H:%M:%S.%fZ"
    for start, end, cmd in con.execute("select started_at, ended_at, command_line from runs"):
        if end and "import-peers" not in cmd:
            total += (datetime.strptime(end, f) - datetime.strptime(start, f)).total_seconds()
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exhaustive")
    ap.add_argument("other")
    ap.add_argument("--arch", default="sm90")
    ap.add_argument("--retimed", help="database where both winners were re-timed together")
    ap.add_argument("--winners", action="store_true", help="print both runs' winners")
    a = ap.parse_args()
    ex = sqlite3.connect(f"file:{a.exhaustive}?mode=ro", uri=True)
    ot = sqlite3.connect(f"file:{a.other}?mode=ro", uri=True)
    ex_best, ot_best = best(latest(ex, a.arch)), best(latest(ot, a.arch))
    if a.winners:
        names = sorted({v for v, _ in ex_best.values()} | {v for v, _ in ot_best.values()})
        print(" ".join(f"--variant {n}" for n in names))
        return 0
    re_all = latest(sqlite3.connect(f"file:{a.retimed}?mode=ro", uri=True), a.arch) \
        if a.retimed else None
    basis = "re-timed side by side" if re_all else "each run's own timing"
    print(f"| problem | exhaustive winner | other's winner | TFLOP/s exhaustive's | "
          f"TFLOP/s other's | gap ({basis}) |")
    print("|---|---|---|---|---|---|")
    gaps, same = [], 0
    for prob in sorted(ex_best):
        ev, etf = ex_best[prob]
        if prob not in ot_best:
            print(f"| {prob} | {ev} | (none) | {etf:.1f} | - | - |")
            gaps.append(float("inf"))
            continue
        ov, otf = ot_best[prob]
        same += ov == ev
        if re_all:
            etf, otf = re_all.get((prob, ev), 0), re_all.get((prob, ov), 0)
        gap = 1 - otf / etf if etf and otf else float("inf")
        gaps.append(gap)
        print(f"| {prob} | {ev} | {'(same)' if ov == ev else ov} | {etf:.1f} | {otf:.1f} | "
              f"{100 * gap:+.1f}% |")
    we, wo = wall(ex), wall(ot)
    within = sum(g <= 0.02 for g in gaps)
    print(f"\nsame winner on {same}/{len(gaps)} problems; within 2% on {within}/{len(gaps)}; "
          f"worst gap {100 * max(gaps):.1f}% ({basis}); time {wo:.0f} s vs {we:.0f} s "
          f"exhaustive = {100 * wo / we if we else 0:.0f}% (bars: 2% on every problem, 30%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
