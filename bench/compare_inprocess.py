#!/usr/bin/env python3
"""Table fa-tune against SDPA's cuDNN and flash backends timed in one process (bench/peers.py
--fa-tune-lib; bench/gpu_run.sh's h2hp and decodep stages): per shape of FlashAttention's grid,
fa-tune's TFLOP/s and variant, the peers', the ratios, fa-tune's check; then the geomean and
worst ratio to cuDNN, the shapes >= 0.9, and issue 14's TFLOP/s bars (head dim 128 non-causal
N >= 4k: 620; head dim 256 non-causal N >= 8k: 680). Decode rows (peers.py --decode) get their
own table: time, K/V TB/s, share of the round's copy bandwidth, speed against cuDNN, and
issue 16's counts.

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
    rounds, decode_rounds = [], []
    for p in paths:
        rows, drows = {}, {}
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                x = json.loads(line)
                if x.get("peer") == "copy":
                    drows["copy"] = x
                elif x.get("op") == "decode":
                    drows[(x["peer"], x["head_dim"], x["heads_q"], x["heads_kv"], x["batch"],
                           x["seqlen_k"], x["seqlen_q"])] = x
                elif "head_dim" in x and not x.get("varlen"):
                    rows[(x["peer"], x["head_dim"], x["causal"], x["seqlen_q"])] = x
        if not any(k[0] == "fa_tune" for k in list(rows) + [k for k in drows if k != "copy"]):
            print(f"compare_inprocess.py: no fa_tune rows in {p} (peers.py --fa-tune-lib)",
                  file=sys.stderr)
            return 1
        rounds.append(rows)
        decode_rounds.append(drows)
    bad = 0
    if any(k[0] == "fa_tune" for r in rounds for k in r):
        bad += forward_table(rounds)
    if any(k != "copy" and k[0] == "fa_tune" for r in decode_rounds for k in r):
        bad += decode_table(decode_rounds)
    if bad:
        print(f"\n{bad} fa-tune check(s) failed", file=sys.stderr)
        return 1
    return 0


def values(rounds, key, field):
    """key's field in each round whose row has it (non-zero)."""
    return [r[key][field] for r in rounds if r.get(key, {}).get(field)]


def per_round_ratios(rounds, num, den, field):
    """Per round, row num's field over row den's, where both have it."""
    return [r[num][field] / r[den][field] for r in rounds
            if r.get(num, {}).get(field) and r.get(den, {}).get(field)]


def fa_tune_cells(rounds, key):
    """fa-tune's variant and check cell for key over the rounds, and its failed checks."""
    checks = [r[key].get("check") for r in rounds if key in r]
    failed = len([c for c in checks if not (c and c.get("ok"))])
    variant = next((r[key].get("variant") for r in rounds if key in r), None) or "-"
    cell = "ok" if checks and not failed else (f"FAIL ({failed} of {len(checks)})" if checks
                                               else "-")
    return variant, cell, failed


def decode_table(rounds):
    """The decode shapes: fa-tune's time, K/V TB/s and share of the copy bandwidth of its
    round, cuDNN's time and the speed ratio (medians over rounds), the check; issue 16's
    counts. Returns the failed checks."""
    shapes = sorted({k[1:] for r in rounds for k in r if k != "copy" and k[0] == "fa_tune"})
    print("decode: fa-tune and SDPA timed in one process per round; medians over rounds; K/V "
          "TB/s against the copy bandwidth of the same round\n")
    print("| shape (hd, heads q/kv, batch x cache, seqlen_q) | K/V MB | fa-tune variant | fa-tune us "
          "| TB/s | % copy | cuDNN us | speed vs cuDNN | check |")
    print("|---|---|---|---|---|---|---|---|---|")
    bad, n_copy, ok_copy, n_cu, ok_cu = 0, 0, 0, 0, 0
    for s in shapes:
        d, hq, hkv, b, nk, nq = s
        key = ("fa_tune",) + s
        fa_ms, fa_tbps = values(rounds, key, "median_ms"), values(rounds, key, "tbps")
        cu = values(rounds, ("torch_sdpa_cudnn",) + s, "median_ms")
        pct = [100 * x for x in per_round_ratios(rounds, key, "copy", "tbps")]
        variant, check, failed = fa_tune_cells(rounds, key)
        bad += failed
        kv = next((r[key]["kv_bytes"] for r in rounds if key in r), 0)
        t = statistics.median(fa_ms) * 1e3 if fa_ms else None
        tb = statistics.median(fa_tbps) if fa_tbps else None
        p = statistics.median(pct) if pct else None
        c = statistics.median(cu) * 1e3 if cu else None
        if p is not None and kv >= 256e6:
            n_copy += 1
            ok_copy += p >= 90
        if t and c:
            n_cu += 1
            ok_cu += c / t >= 1.0
        f1 = (lambda x, spec: format(x, spec) if x is not None else "-")
        print(f"| hd{d} {hq}/{hkv} {b}x{nk} sq{nq} | {kv / 1e6:.0f} | {variant} | {f1(t, '.1f')} | "
              f"{f1(tb, '.2f')} | {f1(p, '.0f')}% | {f1(c, '.1f')} | "
              f"{f1(c / t if t and c else None, '.3f') + ('x' if t and c else '')} | {check} |")
    print(f"\n>= 90% of copy on {ok_copy} of {n_copy} shapes with >= 256 MB of K/V; "
          f">= 1.0x cuDNN on {ok_cu} of {n_cu}")
    return bad


def forward_table(rounds):
    """FlashAttention's grid (see the top of this file). Returns the failed checks."""
    shapes = sorted({k[1:] for r in rounds for k in r if k[0] == "fa_tune"})
    print(f"fa-tune and SDPA timed in one process per round ({len(rounds)} round"
          f"{'s' if len(rounds) > 1 else ''}); TFLOP/s medians over rounds; ratio = median of the "
          f"rounds' fa-tune / cuDNN\n")
    print("| hd | causal | N | fa-tune variant | fa-tune | cuDNN | flash | fa-tune / cuDNN "
          "| fa-tune / flash | check |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios, bad_checks, bars = [], 0, []
    for d, c, n in shapes:
        key, cu_key, fl_key = (("fa_tune", d, c, n), ("torch_sdpa_cudnn", d, c, n),
                               ("torch_sdpa_flash", d, c, n))
        fa, cu, fl = (values(rounds, k, "tflops") for k in (key, cu_key, fl_key))
        per_round = per_round_ratios(rounds, key, cu_key, "tflops")
        per_round_fl = per_round_ratios(rounds, key, fl_key, "tflops")
        variant, check, failed = fa_tune_cells(rounds, key)
        bad_checks += failed
        med = (lambda v: f"{statistics.median(v):.1f}" if v else "-")
        ratio = statistics.median(per_round) if per_round else None
        if ratio:
            ratios.append(ratio)
        if (d, c) in BARS and n >= BARS[(d, c)][0] and fa:
            bars.append((d, n, statistics.median(fa), BARS[(d, c)][1]))
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
    return bad_checks


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
