#!/usr/bin/env python3
"""A lead for issue 18, not built: which other sm90a switches could wait behind a sibling the
way stages do (stage_gate_sim.py), replayed on a run that timed every variant.

usage: axis_gate_sim.py FULL   (a run's database or its times.tsv.xz export)

For the stages gate (sibling: the tile with 2 stages), a pingpong gate (sibling: the same tile
without pingpong) and both together (a variant waits if either gate would hold it), at a few
gate values: how many sm90a variants would not be compiled, and the worst loss per problem
(best of what is kept against the best of everything, the same run's timings). Optimistic: a
sibling that is itself held back has a time here, which a run would not have."""
import re
import sys

from stage_gate_sim import classes, held_by, sibling as stage_sibling, times

PP = re.compile(r"^(fwd_sm90a_.*_m\d+n\d+s\d(?:ov)?)pp(.*)$")


def pp_sibling(v):
    m = PP.match(v)
    return f"{m.group(1)}{m.group(2)}" if m else None


def main():
    t, cls = times(sys.argv[1])
    by_class = classes(cls)
    print("| gate | G | variants not compiled | worst loss |")
    print("|---|---|---|---|")
    for g in (1.05, 1.10, 1.15):
        st, pp = held_by(t, by_class, stage_sibling, g), held_by(t, by_class, pp_sibling, g)
        for label, held in (("stages", st), ("pingpong", pp), ("both", st | pp)):
            worst = max(min(ms for v, ms in vs.items() if v not in held) / min(vs.values()) - 1
                        for vs in t.values())
            print(f"| {label} | {g:.2f} | {len(held)} | {worst * 100:.2f}% |")


if __name__ == "__main__":
    main()
