#!/usr/bin/env python3
"""Session 17: one table of fa-tune's winner per shape timed three ways (the tuning run's
compare.md, h2hb.md and h2h.md, or the table THIRD names, of one call), each against cuDNN (the
tuning run against h2hb's cuDNN medians). Usage: protocols.py DIR [THIRD] (default h2h)."""
import math
import sys


def table(path):
    rows = {}
    for line in open(path):
        f = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(f) < 8 or not f[0].isdigit():
            continue
        rows[(int(f[0]), int(f[1]), int(f[2]))] = f
    return rows


d = sys.argv[1]
third = sys.argv[2] if len(sys.argv) > 2 else "h2h"
tune, hb, hh = table(d + "/compare.md"), table(d + "/h2hb.md"), table(f"{d}/{third}.md")
print(f"| hd | causal | N | winner | tuning run | h2hb | {third} | cuDNN (h2hb) | cuDNN ({third}) "
      f"| tuning/cuDNN | h2hb/cuDNN | {third}/cuDNN |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
ratios = {"tuning run": [], "h2hb": [], third: []}
for k in sorted(tune):
    t, b, h = float(tune[k][5]), float(hb[k][4]), float(hh[k][4])
    cb, ch = float(hb[k][5]), float(hh[k][5])
    r = (t / cb, b / cb, h / ch)
    for name, x in zip(ratios, r):
        ratios[name].append(x)
    print("| %d | %d | %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f | %.3f | %.3f |"
          % (k + (tune[k][3].replace("fwd_sm90a_", ""), t, b, h, cb, ch) + r))
print()
for name, xs in ratios.items():
    g = math.exp(sum(map(math.log, xs)) / len(xs))
    print("%s: geomean %.3f, min %.3f, shapes >= 0.9: %d/%d"
          % (name, g, min(xs), sum(x >= 0.9 for x in xs), len(xs)))
