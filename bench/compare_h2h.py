#!/usr/bin/env python3
"""FlashAttention's grid, head to head: fa-tune's winners and the peers (PyTorch SDPA cuDNN and
flash) re-timed in alternating rounds, medians per shape.

compare.py sets one tuning run's timing of fa-tune's winner beside one peers.py run taken a
minute later. On the H200 the same kernel's TFLOP/s moves by up to 7% from one session to the
next (hd128 non-causal 4k: 667.7 in session 9, 619.9 in session 11, the same variant), so a
single pair of timings can misstate a ratio by a few percent either way. (Session 11 also found
a fa-tune kernel's re-timing 5-13% away from the tuning run's timing of it minutes before, while
the peers repeated within 2-3%; session 12 found the same command 7% apart from one process to
the next, on a GPU at its power cap.) gpu_run.sh's h2h stage instead alternates R rounds of
[fa-tune re-times its winners interleaved; peers.py times the peers], and this script takes
each side's median over the rounds.

The rounds' timings come from the tuner's interleaved re-timing (databases), or, with gpu_run.sh's
h2hb stage, from `fa-tune bench` (JSON lines, one process per shape: the tuning run's winner
timed alone, repetition after repetition with the L2 flushed between, as peers.py times a
peer). Session 16 (H100) found the tuner's interleaved re-timing in h2h runs at 0.86-0.99x
(median 0.92) of the same variant's first timing on causal shapes, and not in a run of one
problem nor in the tuning run's own finals; the three ways gave 0.953-0.974 of cuDNN.

    python3 bench/compare_h2h.py fa-tune.db --winners
        one line per head dim: "HD --variant NAME ..." (the winners compare.py reports)
    python3 bench/compare_h2h.py fa-tune.db --shapes
        one line per shape: "HD CAUSAL N VARIANT" (the tuning run's winner)
    python3 bench/compare_h2h.py fa-tune.db --rounds h2h_1.db h2h_2.db ... \\
        --peers h2h_peers_1.jsonl h2h_peers_2.jsonl ...
        the table: per shape the winner, the median TFLOP/s of fa-tune / cuDNN / FA2 over the
        rounds, the ratios of the medians, and the per-round ratio range

fa-tune's number in a round is the best of its re-timed winners on that shape (the tuning
run's winner and any other variant that won a shape of the same mode).

With --clocks CSV (lines "time,sm_mhz,watts,celsius", the time in epoch seconds or as
nvidia-smi's UTC timestamp; gpu_run.sh samples nvidia-smi every 20 ms) and --phases FILE
(lines "epoch label": "fa-tune 1", "peers 1", ..., "end"), a last table gives each phase's
lowest and median SM clock, its median power and its highest temperature: a ratio taken while
one side ran at a lower clock than the other says so.
"""
import argparse
import json
from datetime import datetime, timezone
import math
import sqlite3
import statistics
import sys

from compare import FA_GRID

GRID = """select p.head_dim, p.causal, p.seqlen_q, v.name, m.tflops
          from measurements m join problems p on p.id = m.problem_id
          join variants v on v.id = m.variant_id
          where m.tflops > 0 and %s
          order by m.id""" % FA_GRID


def best_per_shape(path):
    """(hd, causal, N) -> (variant, TFLOP/s): the best of each variant's latest ok timing."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    latest = {}
    for hd, causal, n, name, tf in con.execute(GRID):
        latest[(hd, causal, n, name)] = tf
    best = {}
    for (hd, causal, n, name), tf in latest.items():
        if (hd, causal, n) not in best or tf > best[(hd, causal, n)][1]:
            best[(hd, causal, n)] = (name, tf)
    return best


def bench_rounds(path):
    """(hd, causal, N) -> (variant, TFLOP/s) from one h2hb round: `fa-tune bench --json` lines,
    each prefixed by gpu_run.sh with "HD CAUSAL N " (failed or mismatched timings left out)."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split(" ", 3)
            if len(parts) < 4 or not parts[3].startswith("{"):
                continue
            r = json.loads(parts[3])
            if r.get("method") == "eager" or r.get("status") != "ok" or not r.get("tflops"):
                continue
            out[(int(parts[0]), int(parts[1]), int(parts[2]))] = (r["method"], r["tflops"])
    return out


def peers_of(path):
    """(hd, causal, N, peer) -> TFLOP/s from one peers.py output (the FA grid's rows)."""
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if "head_dim" not in r or r.get("varlen") or r["heads_q"] != r["heads_kv"]:
                continue
            if r["seqlen_q"] == r["seqlen_k"] and r.get("tflops"):
                out[(r["head_dim"], r["causal"], r["seqlen_q"], r["peer"])] = r["tflops"]
    return out


def phase_clocks(clocks, phases):
    """[(label, samples, min MHz, median MHz, median W, max C)] per phase of the phases file."""
    marks = []
    with open(phases) as f:
        for line in f:
            t, label = line.split(" ", 1)
            marks.append((float(t), label.strip()))
    samples = []
    with open(clocks) as f:
        for line in f:
            fields = [x.strip() for x in line.split(",")]
            try:
                t = float(fields[0]) if "/" not in fields[0] else datetime.strptime(
                    fields[0], "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
                samples.append((t,) + tuple(float(x) for x in fields[1:4]))
            except (ValueError, IndexError):
                continue  # a sample nvidia-smi could not read ("[N/A]")
    out = []
    for (t0, label), (t1, _) in zip(marks, marks[1:]):
        inside = [x for x in samples if t0 <= x[0] < t1]
        if inside:
            out.append((label, len(inside), min(x[1] for x in inside),
                        statistics.median(x[1] for x in inside),
                        statistics.median(x[2] for x in inside), max(x[3] for x in inside)))
        else:
            out.append((label, 0, None, None, None, None))
    return out


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", help="the tuning run's database (its winners)")
    ap.add_argument("--winners", action="store_true",
                    help="print the winners as --variant arguments, one line per head dim")
    ap.add_argument("--shapes", action="store_true",
                    help="print the winner per shape: 'HD CAUSAL N VARIANT' lines")
    ap.add_argument("--rounds", nargs="*", default=[],
                    help="one re-timing database per round, or one h2hb round's bench lines")
    ap.add_argument("--peers", nargs="*", default=[], help="one peers.py output per round")
    ap.add_argument("--clocks", help="nvidia-smi samples: time,sm_mhz,watts,celsius")
    ap.add_argument("--phases", help="phase starts: 'epoch label' lines, the last one 'end'")
    a = ap.parse_args()
    tuned = best_per_shape(a.db)
    if not tuned:
        print(f"compare_h2h: no FA-grid timings in {a.db}", file=sys.stderr)
        return 1
    if a.winners:
        for hd in sorted({k[0] for k in tuned}):
            names = sorted({v for k, (v, _) in tuned.items() if k[0] == hd})
            print(hd, " ".join(f"--variant {n}" for n in names))
        return 0
    if a.shapes:
        for k in sorted(tuned):
            print(*k, tuned[k][0])
        return 0
    if not a.rounds or len(a.rounds) != len(a.peers):
        print("compare_h2h: give as many --peers files as --rounds databases", file=sys.stderr)
        return 2
    rounds = [bench_rounds(p) if p.endswith(".txt") else best_per_shape(p) for p in a.rounds]
    peers = [peers_of(p) for p in a.peers]
    print(f"| hdim | causal | N | winner (tuning run) | fa-tune | cuDNN | FA2 | fa-tune/cuDNN "
          f"| per-round range | fa-tune/FA2 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    r_cud, r_fa2, low = [], [], 0
    for k in sorted(tuned):
        ck, fk = k + ("torch_sdpa_cudnn",), k + ("torch_sdpa_flash",)
        fa = [r[k][1] for r in rounds if k in r]
        cud = [p[ck] for p in peers if ck in p]
        fa2 = [p[fk] for p in peers if fk in p]
        if not fa or not cud:
            print(f"| {k[0]} | {k[1]} | {k[2]} | {tuned[k][0]} | (missing in a round) |")
            continue
        mfa, mcud = statistics.median(fa), statistics.median(cud)
        per_round = [r[k][1] / p[ck] for r, p in zip(rounds, peers) if k in r and ck in p]
        rc = mfa / mcud
        r_cud.append(rc)
        low += rc < 0.9
        mfa2 = statistics.median(fa2) if fa2 else None
        if mfa2:
            r_fa2.append(mfa / mfa2)
        print(f"| {k[0]} | {k[1]} | {k[2]} | {tuned[k][0]} | {mfa:.1f} | {mcud:.1f} | "
              f"{f'{mfa2:.1f}' if mfa2 else '-'} | **{rc:.3f}** | "
              f"{min(per_round):.3f}-{max(per_round):.3f} | "
              f"{f'{mfa / mfa2:.2f}' if mfa2 else '-'} |")
    print(f"\n{len(a.rounds)} rounds; fa-tune / cuDNN (medians): geomean {geomean(r_cud):.3f}, "
          f"min {min(r_cud):.3f}, shapes >= 0.9: {len(r_cud) - low}/{len(r_cud)}; "
          f"fa-tune / FA2 geomean {geomean(r_fa2):.3f}")
    if a.clocks and a.phases:
        print("\n| phase | samples | SM clock MHz, lowest | median | power W (median) "
              "| max temp C |")
        print("|---|---|---|---|---|---|")
        for label, n, low, mhz, watts, temp in phase_clocks(a.clocks, a.phases):
            if n:
                print(f"| {label} | {n} | {low:.0f} | {mhz:.0f} | {watts:.0f} | {temp:.0f} |")
            else:
                print(f"| {label} | 0 | - | - | - | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
