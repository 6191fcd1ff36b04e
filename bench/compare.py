#!/usr/bin/env python3
"""Print fa-tune's best correct variant beside the peers measured in the same database, per
shape of FlashAttention's benchmark grid: TFLOP/s, and the ratios fa-tune / FA2 (PyTorch SDPA
flash) and fa-tune / cuDNN. Reads the SQLite file directly (read-only).

    python3 bench/compare.py fa-tune.db [--arch sm90]

TFLOP/s = 4*B*H*N^2*D / t, halved for causal (the FLOP convention of every fa-tune table).
fa-tune's number per problem is the latest ok measurement of each variant, best variant.
"""
import argparse
import sqlite3
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--arch", default="sm90")
    args = ap.parse_args()
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    rows = con.execute(
        """select p.head_dim, p.causal, p.seqlen_q, v.name, m.tflops, m.eager_median_ms,
                  m.median_ms, m.id
           from measurements m join problems p on p.id = m.problem_id
           join variants v on v.id = m.variant_id
           where m.arch = ? and m.status = 'ok' and p.varlen = 0 and p.dtype = 'bf16'
                 and p.heads_q = p.heads_kv and p.seqlen_q = p.seqlen_k
           order by m.id""", (args.arch,)).fetchall()
    latest = {}
    for hd, causal, n, name, tf, eager, ms, _ in rows:
        latest[(hd, causal, n, name)] = (tf, eager, ms)
    best = {}
    for (hd, causal, n, name), (tf, eager, ms) in latest.items():
        k = (hd, causal, n)
        if k not in best or tf > best[k][1]:
            best[k] = (name, tf, eager / ms if eager and eager > 0 else None)
    peers = {}
    for hd, causal, n, peer, tf in con.execute(
            """select p.head_dim, p.causal, p.seqlen_q, pe.peer, pe.tflops
               from peers pe join problems p on p.id = pe.problem_id
               where p.dtype = 'bf16' and p.varlen = 0"""):
        peers[(hd, causal, n, peer)] = tf
    ceil = con.execute("select max(tflops) from ceilings where name like 'gemm_bf16%'").fetchone()[0]
    print("| hdim | causal | N | fa-tune winner | fa-tune TFLOP/s | FA2 | cuDNN | fa-tune/FA2 |"
          " fa-tune/cuDNN | % of GEMM | vs eager |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for k in sorted(best):
        hd, causal, n = k
        name, tf, sp = best[k]
        fa2 = peers.get((hd, causal, n, "torch_sdpa_flash"))
        cud = peers.get((hd, causal, n, "torch_sdpa_cudnn"))
        r2 = f"{tf / fa2:.2f}" if fa2 else "-"
        rc = f"{tf / cud:.2f}" if cud else "-"
        if fa2:
            ratios.append(tf / fa2)
        pct = f"{100 * tf / ceil:.0f}%" if ceil else "-"
        print(f"| {hd} | {causal} | {n} | {name} | {tf:.1f} | {fa2 or 0:.1f} | {cud or 0:.1f} |"
              f" {r2} | {rc} | {pct} | {f'{sp:.1f}x' if sp else '-'} |")
    if ratios:
        print(f"\nfa-tune / FA2: min {min(ratios):.2f}, max {max(ratios):.2f}, "
              f"shapes >= 1.0: {sum(r >= 1.0 for r in ratios)}/{len(ratios)}; "
              f"GEMM ceiling {ceil or 0:.0f} TFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
