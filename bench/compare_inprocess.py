#!/usr/bin/env python3
"""Table fa-tune against SDPA's cuDNN and flash backends timed in one process (bench/peers.py
--fa-tune-lib; bench/gpu_run.sh's h2hp stage): per shape of FlashAttention's grid, fa-tune's
TFLOP/s and variant, the peers', the ratios, fa-tune's check; then the geomean and worst ratio
to cuDNN, the shapes >= 0.9, and issue 14's TFLOP/s bars (head dim 128 non-causal N >= 4k:
620; head dim 256 non-causal N >= 8k: 680).

usage: compare_inprocess.py PEERS.jsonl [PEERS.jsonl ...]

With several files (rounds, one process each) a shape's figure per side is the median of its
rounds' TFLOP/s, and the ratio column is the median of the per-round ratios (each round's pair
timed in one process). Exit 1 if a file has no fa_tune rows or a fa_tune check failed."""
import json
import math
import statistics
import sys

BARS = {(128, 0): (4096, 620.0), (256, 0): (8192, 680.0)}  # (hd, causal): (min N, TFLOP/s)


def main(paths):
    rounds = []
    for p in paths:
        rows = {}
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                x = json.loads(line)
                if "head_dim" not in x or x.get("op", "fwd") != "fwd" or x.get("varlen"):
                    continue  # the GEMM ceiling, decode or varlen rows
                rows[(x["peer"], x["head_dim"], x["causal"], x["seqlen_q"])] = x
        if not any(k[0] == "fa_tune" for k in rows):
            print(f"compare_inprocess.py: no fa_tune rows in {p} (peers.py --fa-tune-lib)",
                  file=sys.stderr)
            return 1
        rounds.append(rows)
    shapes = sorted({k[1:] for r in rounds for k in r if k[0] == "fa_tune"})
    print(f"fa-tune and SDPA timed in one process per round ({len(rounds)} round"
          f"{'s' if len(rounds) > 1 else ''}); TFLOP/s medians over rounds; ratio = median of the "
          f"rounds' fa-tune / cuDNN\n")
    print("| hd | causal | N | fa-tune variant | fa-tune | cuDNN | flash | fa-tune / cuDNN "
          "| fa-tune / flash | check |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios, bad_checks, bars = [], 0, []
    for d, c, n in shapes:
        def tf(peer):
            v = [r[(peer, d, c, n)]["tflops"] for r in rounds
                 if r.get((peer, d, c, n), {}).get("tflops")]
            return v

        fa, cu, fl = tf("fa_tune"), tf("torch_sdpa_cudnn"), tf("torch_sdpa_flash")
        per_round = [r[("fa_tune", d, c, n)]["tflops"] / r[("torch_sdpa_cudnn", d, c, n)]["tflops"]
                     for r in rounds
                     if r.get(("fa_tune", d, c, n), {}).get("tflops")
                     and r.get(("torch_sdpa_cudnn", d, c, n), {}).get("tflops")]
        per_round_fl = [r[("fa_tune", d, c, n)]["tflops"] / r[("torch_sdpa_flash", d, c, n)]["tflops"]
                        for r in rounds
                        if r.get(("fa_tune", d, c, n), {}).get("tflops")
                        and r.get(("torch_sdpa_flash", d, c, n), {}).get("tflops")]
        checks = [r[("fa_tune", d, c, n)].get("check") for r in rounds if ("fa_tune", d, c, n) in r]
        failed = [ch for ch in checks if not (ch and ch.get("ok"))]
        bad_checks += len(failed)
        variant = next((r[("fa_tune", d, c, n)].get("variant") for r in rounds
                        if ("fa_tune", d, c, n) in r), None) or "-"
        med = (lambda v: f"{statistics.median(v):.1f}" if v else "-")
        ratio = statistics.median(per_round) if per_round else None
        if ratio:
            ratios.append(ratio)
        if (d, c) in BARS and n >= BARS[(d, c)][0] and fa:
            bars.append((d, n, statistics.median(fa), BARS[(d, c)][1]))
        check = "ok" if checks and not failed else (
            f"FAIL ({len(failed)} of {len(checks)})" if checks else "-")
        print(f"| {d} | {c} | {n} | {variant} | {med(fa)} | {med(cu)} | {med(fl)} | "
              f"{f'{ratio:.3f}' if ratio else '-'} | "
              f"{f'{statistics.median(per_round_fl):.3f}' if per_round_fl else '-'} | {check} |")
    if ratios:
        g = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"\nfa-tune / cuDNN: geomean {g:.3f}, min {min(ratios):.3f}, shapes >= 0.9: "
              f"{sum(r >= 0.9 for r in ratios)}/{len(ratios)}, >= 1.0: "
              f"{sum(r >= 1.0 for r in ratios)}/{len(ratios)}")
    for d, n, t, bar in bars:
        print(f"hd{d} non-causal N={n}: {t:.1f} TFLOP/s (bar {bar:.0f}: "
              f"{'met' if t >= bar else 'not met'})")
    if bad_checks:
        print(f"\n{bad_checks} fa-tune check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
