#!/usr/bin/env python3
"""Replay stop rules of the interleaved re-timing on recorded rounds (FA_TUNE_RETIME_TRACE).

fa-tune's interleaved re-timing (halving's rung 1, the finalists) runs a group of variants
round by round and stops members, or the whole group, by the rules in harness/fa_harness.h
(fa_retime_out, fa_retime_settled, min_reps and the RSE rule). With FA_TUNE_RETIME_TRACE set,
every group's rounds are written down; this script replays a rule set on those same rounds and
says what it would have cost (kernel time of the rounds it takes) and what it would have picked.

    python3 bench/retime_replay.py TRACE [--truth TRACE_RACE0] [--rule NAME ...]
    python3 bench/retime_replay.py TRACE --rung0

--rung0: where each group's best stood in halving's rung 0 (the trace's "time" lines of a
halving run): its rank on the rung-0 problem of its class nearest in keys (then GQA ratio), and
the best rank any variant within 1% of it reached on any rung-0 problem of the class -- how
deep rung 0's cut (FA_HALVING_KEEP_SPACE) has to reach for the group to hold a winner.

TRACE: a run's trace. --truth: a trace of the same problems with racing off (--race 0: every
member runs the group's rounds), whose full rounds decide each member's true ratio to the best;
without it, TRACE's own full rounds do (then only stopping earlier than TRACE did can be
judged). A rule that wants a round the trace does not have for a member it keeps ends the group
there ("short groups" in the table: the replay is then optimistic for that rule).

Rules: `current` is the shipped one, ported line for line. Replayed on a trace of a run with the
shipped rules it takes exactly the rounds that run took, and the table says "(the trace's own
rounds)". Session 29's first traces (bench/results/2026-12-07_session29, call 1) were taken
with `before_two_min` and wrote times to 5 decimals, so a few racing decisions at a threshold
differ there by a round; later traces carry 9 significant digits.
"""
import argparse
import math
import re
import statistics
import sys


def parse(path, times=None):
    """The groups of a trace, in order; a variant's own timings ("time" lines) go to times,
    a dict {problem: {variant: (raced, reps, median ms)}}, when one is given."""
    groups, cur = [], None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "time":
                if times is not None:
                    times.setdefault(w[1], {})[w[2]] = (int(w[3]), int(w[4]), float(w[5]))
            elif w[0] == "group":
                cur = {"problem": w[1], "jobs": []}
                groups.append(cur)
            elif int(w[2]) > 0:  # a job with no round (its group failed first) says nothing
                cur["jobs"].append({"name": w[0], "raced": int(w[1]),
                                    "x": [float(t) for t in w[3:3 + int(w[2])]]})
    return [g for g in groups if g["jobs"]]


def stats(x):
    n = len(x)
    mean = sum(x) / n
    var = sum((v - mean) ** 2 for v in x) / (n - 1) if n > 1 else 0.0
    rse = math.sqrt(var / n) / mean if n > 1 and mean > 0 else math.inf
    return {"median": statistics.median(x), "mean": mean, "rse": rse, "n": n, "min": min(x)}


def paired(xi, xl, m):
    return stats([a / b if b > 0 else 0 for a, b in zip(xi[:m], xl[:m])])


class Rule:
    """The shipped constants (fa_harness.h, fa_runner_internal.h, fa_tune.c's set_protocols)."""
    margin = 1.05          # interleave_margin: 1 + (race_margin 1.2 - 1) / 4
    abandon_reps = 3       # FA_ABANDON_REPS
    one_rep = 1.05         # FA_ABANDON_ONE_REP
    tight_rounds = 4       # FA_RETIME_TIGHT_ROUNDS
    tight = 0.02           # FA_RETIME_TIGHT
    settled_rounds = 5     # FA_RETIME_SETTLED_ROUNDS
    zone = 0.01            # FA_RETIME_ZONE
    min_reps = 10          # --rounds
    alone_min = 5          # FA_RETIME_ALONE_MIN
    target_rse = 0.01
    two_min = True         # after 2 rounds, out when both rounds' ratios are over the margin

    def __init__(self, name, **kw):
        self.name = name
        for k, v in kw.items():
            setattr(self, k, v)

    def out(self, r, rounds):
        if r["median"] > self.margin * (1.0 if rounds >= self.abandon_reps else self.one_rep):
            return True
        if self.two_min and rounds == 2 and r["min"] > self.margin:
            return True
        se = r["rse"] * r["mean"]
        return rounds >= self.tight_rounds and r["median"] > 1 + self.tight and r["mean"] - 2 * se > 1

    def settled(self, r, rounds):
        if rounds < self.settled_rounds or r["n"] < self.settled_rounds:
            return False
        se = r["rse"] * r["mean"]
        lo, hi = r["mean"] - 2 * se, r["mean"] + 2 * se
        if not (2 * se <= self.zone) or lo < 1 - self.zone:
            return False
        return r["median"] >= 1 or (hi <= 1 + self.zone and r["median"] >= 1 - self.zone)


def leader(x, live):
    best, bm = -1, 0
    for i in live:
        if x[i]:
            m = statistics.median(x[i])
            if best < 0 or m < bm:
                best, bm = i, m
    return best


def replay(group, rule):
    """Rounds of each job under rule, the job it picks (lowest stored median), and 1 if the
    trace ran out of rounds for a job the rule keeps. Not ported: the round cap (max_reps,
    1000) and the group's time budget (5 s a job), which a halving run does not reach."""
    full = [j["x"] for j in group["jobs"]]
    n = len(full)
    x = [[] for _ in range(n)]
    raced, ref, ratio = [False] * n, [-1] * n, [0.0] * n
    short = 0
    while True:
        live = [i for i in range(n) if not raced[i]]
        ran = 0
        for i in live:
            k = len(x[i])
            if k < len(full[i]):
                x[i].append(full[i][k])
                ran += 1
        if ran == 0:
            break
        live = [i for i in range(n) if not raced[i]]
        bi = leader(x, live)
        for i in live:
            if i == bi or not x[i]:
                continue
            m = min(len(x[i]), len(x[bi]))
            s = paired(x[i], x[bi], m)
            if rule.out(s, m):
                raced[i], ref[i], ratio[i] = True, bi, s["median"]
        live = [i for i in range(n) if not raced[i]]
        unraced = len(live)
        min_rounds = rule.alone_min if unraced <= 1 and rule.min_reps > rule.alone_min \
            else rule.min_reps
        done, settled = True, bi >= 0 and unraced > 1
        for i in live:
            if bi < 0 or unraced == 1:
                s = stats(x[i])
            elif i == bi:
                s = {"rse": 0}
            else:
                m = min(len(x[i]), len(x[bi]))
                s = paired(x[i], x[bi], m)
                settled = settled and rule.settled(s, m)
            if len(x[i]) < min_rounds or s["rse"] > rule.target_rse:
                done = False
        if done or settled:
            break
        if any(len(x[i]) >= len(full[i]) for i in live):
            short += 1  # the trace has no more rounds for a job the rule keeps
            break
    live = [i for i in range(n) if not raced[i]]
    lead = leader(x, live)
    stored = [math.inf] * n
    for i in range(n):
        if not x[i]:
            continue
        if i == lead:
            stored[i] = statistics.median(x[i])
        elif not raced[i]:
            m = min(len(x[i]), len(x[lead]))
            stored[i] = paired(x[i], x[lead], m)["median"] * statistics.median(x[lead])
    for i in range(n):  # a raced job: its ratio times its reference's stored median
        if raced[i] and x[i]:
            chain, j = ratio[i], ref[i]
            while raced[j]:
                chain, j = chain * ratio[j], ref[j]
            stored[i] = chain * stored[j]
    pick = min(range(n), key=lambda i: stored[i])
    return [len(v) for v in x], pick, short


def true_ratios(group):
    """Each job's median ratio to the group's best over the rounds they share. The best: the
    lowest median of the jobs with the most rounds (with racing on, those that ran to the end)."""
    full = [j["x"] for j in group["jobs"]]
    most = max(len(v) for v in full)
    base = min((i for i in range(len(full)) if len(full[i]) == most),
               key=lambda i: statistics.median(full[i]))
    return {group["jobs"][i]["name"]: paired(full[i], full[base], min(len(full[i]), most))["median"]
            for i in range(len(full))}


RULES = {
    "current": {},
    "before_two_min": {"two_min": False},  # the rules until session 29
    "tight1": {"tight": 0.01},
    "tight05": {"tight": 0.005},
    "rounds8": {"min_reps": 8},
    "rounds6": {"min_reps": 6},
    "settled4": {"settled_rounds": 4},
    "zone15": {"zone": 0.015},
    "tight1_rounds8": {"tight": 0.01, "min_reps": 8},
    "tight05_rounds6": {"tight": 0.005, "min_reps": 6},
}


def rung0_ranks(groups, times, truth):
    """Per group: (rank of its best on the nearest rung-0 problem, the best rank of a variant
    within 1% of it on any rung-0 problem of its class, problem). A variant raced out of its
    rung-0 timing ranks after every unraced one."""
    def field(p, key):
        return int(re.search(rf"_{key}(\d+)_", p).group(1))

    def mode(p):
        return p.split(f"_d{field(p, 'd')}_")[1]

    rank = {}
    for p, d in times.items():
        order = sorted((v for v in d if not d[v][0]), key=lambda v: d[v][2])
        rank[p] = {v: i + 1 for i, v in enumerate(order)}
        rank[p].update({v: len(d) + 1 for v in d if d[v][0]})
    rows = []
    for g in groups:
        p, t = g["problem"], truth[g["problem"]]
        same = [q for q in rank if mode(q) == mode(p)]
        if not same:
            continue
        near = min(same, key=lambda q: (abs(math.log(field(q, "k") / field(p, "k"))),
                                        abs(field(q, "h") // field(q, "kv") -
                                            field(p, "h") // field(p, "kv"))))
        best = min(t, key=t.get)
        within = [v for v, r in t.items() if r <= 1.01]
        rows.append((rank[near].get(best, math.inf),
                     min(rank[q].get(v, math.inf) for q in same for v in within), p))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--truth", help="a --race 0 trace of the same problems")
    ap.add_argument("--rule", action="append", choices=sorted(RULES), help="rules to replay")
    ap.add_argument("--rung0", action="store_true", help="where each group's best ranked in rung 0")
    a = ap.parse_args()
    times = {}
    groups = parse(a.trace, times)
    truth = {g["problem"]: true_ratios(g) for g in parse(a.truth)} if a.truth else \
        {g["problem"]: true_ratios(g) for g in groups}
    if a.rung0:
        rows = rung0_ranks(groups, times, truth)
        print(f"{len(rows)} groups of classes with rung-0 timings, {len(times)} rung-0 problems")
        print("| rank | best's on the nearest rung-0 problem | best of a variant within 1%, any "
              "rung-0 problem |")
        print("|---|---|---|")
        for lo, hi in ((1, 1), (2, 3), (4, 6), (7, 12), (13, 24), (25, 48), (49, math.inf)):
            print(f"| {lo}{'' if hi == lo else '+' if hi == math.inf else f'-{hi}'} | "
                  f"{sum(lo <= r[0] <= hi for r in rows)} | {sum(lo <= r[1] <= hi for r in rows)} |")
        return 0
    print(f"{len(groups)} groups, {sum(len(g['jobs']) for g in groups)} jobs, "
          f"{sum(sum(sum(j['x']) for j in g['jobs']) for g in groups) / 1000:.2f} s of kernel "
          f"time recorded")
    print("| rule | rounds | kernel s | picks > 1% behind | > 2% | worst | short groups | "
          "picks not in --truth |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.rule or list(RULES):
        rule = Rule(name, **RULES[name])
        reps = ms = over1 = over2 = short = unknown = 0
        worst, agree = 0.0, True
        for g in groups:
            rounds, pick, sh = replay(g, rule)
            short += sh
            reps += sum(rounds)
            ms += sum(sum(j["x"][:k]) for j, k in zip(g["jobs"], rounds))
            if name == "current" and rounds != [len(j["x"]) for j in g["jobs"]]:
                agree = False
            ratio = truth.get(g["problem"], {}).get(g["jobs"][pick]["name"])
            if ratio is None:  # not in the --truth trace's group
                unknown += 1
                continue
            gap = ratio - 1
            worst = max(worst, gap)
            over1 += gap > 0.01
            over2 += gap > 0.02
        note = (" (the trace's own rounds)" if agree else " (not the trace's rounds: a --race 0 "
                                                         "trace, or one taken with other rules)") \
            if name == "current" else ""
        print(f"| {name}{note} | {reps} | {ms / 1000:.2f} | {over1} | {over2} | "
              f"{100 * worst:.2f}% | {short} | {unknown} |")


if __name__ == "__main__":
    sys.exit(main())
