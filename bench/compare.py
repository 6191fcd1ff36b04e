#!/usr/bin/env python3
"""Print fa-tune's best correct variant beside the peers measured in the same database, per
shape of FlashAttention's benchmark grid: TFLOP/s, and the ratios fa-tune / FA2 (PyTorch SDPA
flash) and fa-tune / cuDNN. With several kernel families measured (sm80 and sm90a on a
Hopper GPU), the winner's family and each family's best TFLOP/s are columns too, and the
summary counts the wins per family. The winner's registers per thread and shared memory per
block (static + dynamic, KiB) close each row, as ptxas reported them when it was compiled.
Reads the SQLite file directly (read-only).

    python3 bench/compare.py fa-tune.db [--arch sm90,sm90a]

TFLOP/s = 4*B*H*N^2*D / t, halved for causal (the FLOP convention of every fa-tune table).
fa-tune's number per problem is the latest ok measurement of each variant, best variant.
"""
import argparse
import math
import sqlite3
import sys


def family(name):
    """The kernel family of a variant name: its second token (fwd_sm90a_hd128_... -> sm90a)."""
    parts = name.split("_")
    return parts[1] if len(parts) > 1 else "?"


# FlashAttention's benchmark grid among a database's ok measurements (problems p, measurements
# m): bf16, fixed length, no GQA, seqlen_q = seqlen_k. compare_h2h.py selects by it too.
FA_GRID = """m.status = 'ok' and p.varlen = 0 and p.dtype = 'bf16' and p.heads_q = p.heads_kv
             and p.seqlen_q = p.seqlen_k"""


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--arch", default="sm90,sm90a",
                    help="measurement archs, comma-separated (default sm90,sm90a)")
    args = ap.parse_args()
    archs = [a for a in args.arch.split(",") if a]
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    rows = con.execute(
        """select p.head_dim, p.causal, p.seqlen_q, v.name, m.tflops, m.eager_median_ms,
                  m.median_ms, m.registers, coalesce(m.smem_static, 0) + v.smem_dynamic
           from measurements m join problems p on p.id = m.problem_id
           join variants v on v.id = m.variant_id
           where m.arch in (%s) and %s
           order by m.id""" % (",".join("?" * len(archs)), FA_GRID), archs).fetchall()
    latest = {}
    for hd, causal, n, name, tf, eager, ms, regs, smem in rows:
        latest[(hd, causal, n, name)] = (tf, eager, ms, regs, smem)
    best = {}
    fam_best = {}  # (hd, causal, n, family) -> TFLOP/s
    for (hd, causal, n, name), (tf, eager, ms, regs, smem) in latest.items():
        k = (hd, causal, n)
        if k not in best or tf > best[k][1]:
            best[k] = (name, tf, eager / ms if eager and eager > 0 else None, regs, smem)
        fk = k + (family(name),)
        fam_best[fk] = max(tf, fam_best.get(fk, 0.0))
    families = sorted({family(name) for (_, _, _, name) in latest})
    peers = {}
    for hd, causal, n, peer, tf in con.execute(
            """select p.head_dim, p.causal, p.seqlen_q, pe.peer, pe.tflops
               from peers pe join problems p on p.id = pe.problem_id
               where p.dtype = 'bf16' and p.varlen = 0 and p.heads_q = p.heads_kv"""):
        peers[(hd, causal, n, peer)] = tf
    ceil = con.execute("select max(tflops) from ceilings where name like 'gemm_bf16%'").fetchone()[0]
    fam_cols = "".join(f" {f} |" for f in families)
    print("| hdim | causal | N | fa-tune winner | family | fa-tune TFLOP/s |" + fam_cols +
          " FA2 | cuDNN | fa-tune/FA2 | fa-tune/cuDNN | % of GEMM | vs eager | regs | smem KiB |")
    print("|---|---|---|---|---|---|" + "---|" * len(families) + "---|---|---|---|---|---|---|---|")
    ratios, ratios_cud, wins = [], [], {}
    for k in sorted(best):
        hd, causal, n = k
        name, tf, sp, regs, smem = best[k]
        fam = family(name)
        wins[fam] = wins.get(fam, 0) + 1
        fa2 = peers.get((hd, causal, n, "torch_sdpa_flash"))
        cud = peers.get((hd, causal, n, "torch_sdpa_cudnn"))
        r2 = f"{tf / fa2:.2f}" if fa2 else "-"
        rc = f"{tf / cud:.2f}" if cud else "-"
        if fa2:
            ratios.append(tf / fa2)
        if cud:
            ratios_cud.append(tf / cud)
        pct = f"{100 * tf / ceil:.0f}%" if ceil else "-"
        fams = "".join(f" {fam_best[k + (f,)]:.1f} |" if k + (f,) in fam_best else " - |"
                       for f in families)
        print(f"| {hd} | {causal} | {n} | {name} | {fam} | {tf:.1f} |{fams} {fa2 or 0:.1f} |"
              f" {cud or 0:.1f} | {r2} | {rc} | {pct} | {f'{sp:.1f}x' if sp else '-'} |"
              f" {regs if regs is not None and regs >= 0 else '-'} |"
              f" {f'{smem / 1024:.1f}' if smem is not None and smem > 0 else '-'} |")
    if ratios:
        print(f"\nfa-tune / FA2: min {min(ratios):.2f}, max {max(ratios):.2f}, "
              f"geomean {geomean(ratios):.2f}, shapes >= 1.0: "
              f"{sum(r >= 1.0 for r in ratios)}/{len(ratios)}; "
              f"GEMM ceiling {ceil or 0:.0f} TFLOP/s")
    if ratios_cud:
        print(f"fa-tune / cuDNN: min {min(ratios_cud):.2f}, max {max(ratios_cud):.2f}, "
              f"geomean {geomean(ratios_cud):.2f}, shapes >= 0.9: "
              f"{sum(r >= 0.9 for r in ratios_cud)}/{len(ratios_cud)}")
    if best:
        print("winners by family: " +
              ", ".join(f"{f} {wins.get(f, 0)}/{len(best)}" for f in families))
    return 0


if __name__ == "__main__":
    sys.exit(main())
