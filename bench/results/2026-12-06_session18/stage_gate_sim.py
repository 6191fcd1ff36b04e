#!/usr/bin/env python3
"""Issue 18's stage gate, judged on a run that timed every variant (--stage-gate 0).

usage: stage_gate_sim.py FULL [GATED]     (each a run's database, or its times.tsv.xz export)
       stage_gate_sim.py --export RUN.db OUT.tsv.xz

FULL.db: an exhaustive run with --stage-gate 0 (every sm90a depth timed). For each gate value G
it replays the gate on FULL's own timings (each class's deeper tiles kept only if the tile with
2 stages is within G of the class's best on some problem) and prints how many deeper tiles it
holds back and what that loses: per problem, the best time of what the gate keeps against the
best of everything, from the same run's timings (the fastest ok median of each variant).
GATED.db (optional): the gated run itself; the variants it never timed are then read from it
instead of replayed, and reported the same way."""
import lzma
import re
import sqlite3
import sys
from collections import defaultdict

QUERY = ("select p.name, v.name, min(m.median_ms), p.dtype, p.head_dim, p.causal, p.varlen "
         "from measurements m join problems p on p.id = m.problem_id "
         "join variants v on v.id = m.variant_id "
         "where m.status = 'ok' and m.median_ms > 0 group by p.name, v.name")

def rows(path):
    if path.endswith(".tsv.xz"):
        with lzma.open(path, "rt") as f:
            for line in f:
                p, v, ms, *k = line.rstrip("\n").split("\t")
                yield p, v, float(ms), *k
    else:
        yield from sqlite3.connect(path).execute(QUERY)

def times(path):
    """{problem: {variant: fastest ok median ms}}, {problem: class key}"""
    t = defaultdict(dict)
    cls = {}
    for prob, var, ms, dt, hd, causal, varlen in rows(path):
        t[prob][var] = ms
        cls[prob] = (str(dt), str(hd), str(causal), str(varlen))
    return t, cls

STAGES = re.compile(r"^(fwd_sm90a_.*_m\d+n\d+)s(\d)(.*)$")

def sibling(v):
    m = STAGES.match(v)
    if not m or m.group(2) == "2":
        return None
    return f"{m.group(1)}s2{m.group(3)}"

def report(label, t, held):
    worst, lost = 0.0, []
    for p, vs in t.items():
        best = min(vs.values())
        kept = min((ms for v, ms in vs.items() if v not in held), default=None)
        gap = kept / best - 1 if kept else float("inf")
        worst = max(worst, gap)
        if gap > 0.02:
            lost.append((gap, p))
    deep = sum(1 for v in {v for vs in t.values() for v in vs} if sibling(v))
    print(f"| {label} | {len(held)} of {deep} | {worst * 100:.1f}% | {len(lost)} |")
    return lost

def classes(cls):
    """{class key: [problem]}"""
    by_class = defaultdict(list)
    for p, k in cls.items():
        by_class[k].append(p)
    return by_class

def held_by(t, by_class, sib, g):
    """The variants a gate at g holds back: those whose sibling sib(v) is timed in their class
    and over g x the class's best on every problem."""
    held = set()
    for probs in by_class.values():
        variants = {v for p in probs for v in t[p]}
        for v in variants:
            s = sib(v)
            if not s or s not in variants:
                continue
            near = [t[p][s] <= g * min(t[p].values()) for p in probs if s in t[p]]
            if near and not any(near):
                held.add(v)
    return held

def main():
    full, cls = times(sys.argv[1])
    by_class = classes(cls)
    print("| gate | deeper sm90a tiles held back | worst loss (same run's timings) | problems > 2% |")
    print("|---|---|---|---|")
    for g in (1.02, 1.05, 1.10, 1.15, 1.25, 1.5):
        held = held_by(full, by_class, sibling, g)
        lost = report(f"{g:.2f} (replayed)", full, held)
        for gap, p in sorted(lost, reverse=True)[:3]:
            print(f"|   {p}: {gap * 100:.1f}% | | | |")
    if len(sys.argv) > 2:
        gated, _ = times(sys.argv[2])
        seen = {v for vs in gated.values() for v in vs}
        held = {v for vs in full.values() for v in vs if v not in seen}
        lost = report("the gated run's own", full, held)
        for gap, p in sorted(lost, reverse=True)[:5]:
            print(f"|   {p}: {gap * 100:.1f}% | | | |")

if __name__ != "__main__":
    pass  # imported (axis_gate_sim.py)
elif len(sys.argv) == 4 and sys.argv[1] == "--export":
    with lzma.open(sys.argv[3], "wt", preset=9) as out:
        for r in rows(sys.argv[2]):
            out.write("\t".join(str(x) for x in r) + "\n")
else:
    main()
