#!/usr/bin/env python3
"""Issue 13's check that the family seam changed no sm80 result: the winners of a tune run
before the seam (its printed winners table, e.g.
bench/results/2026-12-03_h200_before_seam/tune1_hd128_exhaustive.txt) against today's
`--family sm80` winners, both re-timed side by side in one database.

    python3 bench/compare_seam.py BEFORE.txt NOW.db --winners      # --variant arguments
    python3 bench/compare_seam.py BEFORE.txt NOW.db --retimed R.db  # the table

Per problem: the two winners, their TFLOP/s re-timed interleaved in R.db, and the gap.
Same name, or a gap within the noise (2%), means the seam kept the sm80 result.
"""
import argparse
import sqlite3
import sys

from compare_strategies import latest  # bench/ is on sys.path: this script's folder

NOISE = 0.02


def before_winners(path):
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 3 and f[0].startswith("b") and f[1].startswith("fwd_"):
            out[f[0]] = f[1]
    return out


def best(lat, family):
    b = {}
    for (prob, var), tf in lat.items():
        if var.split("_")[1] == family and (prob not in b or tf > b[prob][1]):
            b[prob] = (var, tf)
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("now")
    ap.add_argument("--arch", default="sm90")
    ap.add_argument("--family", default="sm80")
    ap.add_argument("--retimed")
    ap.add_argument("--winners", action="store_true")
    a = ap.parse_args()
    old = before_winners(a.before)
    if not old:
        sys.exit(f"compare_seam: no winners table in {a.before}")
    now = best(latest(sqlite3.connect(f"file:{a.now}?mode=ro", uri=True), a.arch), a.family)
    if a.winners:
        names = sorted(set(old.values()) | {v for v, _ in now.values()})
        print(" ".join(f"--variant {n}" for n in names))
        return
    re = latest(sqlite3.connect(f"file:{a.retimed}?mode=ro", uri=True), a.arch) if a.retimed else {}
    print("| problem | winner before the seam | winner now | TFLOP/s before's | now's | gap |")
    print("|---|---|---|---|---|---|")
    same = within = 0
    for prob in sorted(old, key=lambda p: (("causal" in p), int(p.split("_q")[1].split("_")[0]))):
        ov = old[prob]
        nv = now.get(prob, ("-", 0))[0]
        to, tn = re.get((prob, ov), 0), re.get((prob, nv), 0)
        gap = (tn / to - 1) if to and tn else float("nan")
        same += ov == nv
        within += ov == nv or abs(gap) <= NOISE
        print(f"| {prob} | {ov} | {nv} | {to:.1f} | {tn:.1f} | {gap:+.1%} |")
    print(f"\n{len(old)} problems: {same} same winner, {within} same or within {NOISE:.0%} "
          f"re-timed side by side")


if __name__ == "__main__":
    main()
