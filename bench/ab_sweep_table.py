#!/usr/bin/env python3
"""bench/ab_sweep_table.py -- the table of an A/B of a patch on the full sweep (bench/ab_sweep.sh).

Reads the log that ab_sweep.sh writes (bench/gpu_run.sh's sweep stages, FA_PROFILE on): one
block per run, opened by "=== sweep hd128 halving NAME (cold|warm cache)", with fa-tune's
summary and profile lines. A run's arm is its name's first letter: b (base: the tree with the
patch reversed) or n (new: the tree as it is). Prints one row per run, then per arm the range
of its warm runs, and whether the two ranges are apart (no speed or memory claim otherwise).

    ab_sweep_table.py LOG

Exit status: 0, or 1 when a run failed (rc != 0) or left no summary line, or 2 on bad usage.
"""
import re
import sys

HEAD = re.compile(r"^=== sweep hd(\d+) (\S+) (\S+) \((cold|warm) cache\)")
# What each run's lines give: (key, regular expression, group's type)
FIELDS = [
    ("rc", re.compile(r"^rc (-?\d+), wall"), int),
    ("wall", re.compile(r"^fa-tune profile \(engine\): wall ([\d.]+) s"), float),
    ("gpu_busy", re.compile(r"^fa-tune profile \(engine\): .*GPU busy ([\d.]+) s"), float),
    ("compiles", re.compile(r"compiles outstanding ([\d.]+) s"), float),
    ("handling", re.compile(r"^fa-tune profile \(worker 0\): \d+ messages, ([\d.]+) s handling"),
     float),
    ("round_trips", re.compile(r"^fa-tune profile \(worker 0, parent side\): \d+ messages, "
                               r"([\d.]+) s from sending"), float),
    ("peak_mb", re.compile(r"^fa-tune profile \(session\): .*peak memory (\d+) MB"), int),
]
ARMS = {"b": "base", "n": "new"}


def parse(lines):
    """The runs of a log, in order: dicts with name, arm, temp and FIELDS' keys (None if absent)."""
    runs = []
    for line in lines:
        m = HEAD.match(line)
        if m:
            name = m.group(3)
            runs.append({"name": name, "arm": ARMS.get(name[:1]), "temp": m.group(4),
                         **{k: None for k, _, _ in FIELDS}})
            continue
        if not runs:
            continue
        for key, rx, typ in FIELDS:
            f = rx.search(line)
            if f and runs[-1][key] is None:
                runs[-1][key] = typ(f.group(1))
    for r in runs:  # the parent's time around the child's: its own share of the round trips
        r["parent"] = (round(r["round_trips"] - r["handling"], 1)
                       if r["round_trips"] is not None and r["handling"] is not None else None)
    return runs


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def span(vals):
    return (min(vals), max(vals)) if vals else None


def verdict(a, b):
    """'apart' when the ranges do not overlap, else 'overlap'."""
    if not a or not b:
        return "-"
    return "apart" if a[1] < b[0] or b[1] < a[0] else "overlap"


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    with open(argv[1], errors="replace") as f:
        runs = parse(f.read().splitlines())
    if not runs:
        print("ab_sweep_table: no '=== sweep' runs in %s" % argv[1], file=sys.stderr)
        return 1
    print("| run | arm | cache | rc | wall s | GPU busy s | compiles outstanding s | "
          "parent outside the child s | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for r in runs:
        if r["rc"] != 0 or r["wall"] is None:
            bad += 1
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], r["arm"] or "?", r["temp"], fmt(r["rc"], "d"), fmt(r["wall"], ".1f"),
            fmt(r["gpu_busy"], ".1f"), fmt(r["compiles"], ".1f"), fmt(r["parent"], ".1f"),
            fmt(r["peak_mb"], "d")))
    print()
    for key, label, spec in (("wall", "wall s", ".1f"), ("peak_mb", "peak MB", "d"),
                             ("parent", "parent outside the child s", ".1f")):
        ranges = {}
        for arm in ("base", "new"):
            vals = [r[key] for r in runs if r["arm"] == arm and r["temp"] == "warm"
                    and r[key] is not None and r["rc"] == 0]
            ranges[arm] = span(vals)
        cells = []
        for arm in ("base", "new"):
            s = ranges[arm]
            cells.append("%s %s" % (arm, "-" if s is None else
                                    "%s-%s" % (format(s[0], spec), format(s[1], spec))))
        print("warm %s: %s, %s: ranges %s" % (label, cells[0], cells[1],
                                              verdict(ranges["base"], ranges["new"])))
    if bad:
        print("%d run(s) failed or left no summary" % bad, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
