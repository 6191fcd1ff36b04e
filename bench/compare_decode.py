#!/usr/bin/env python3
"""Issue 16's table: fa-tune's decode winners beside PyTorch SDPA (cuDNN, flash) and the
device copy bandwidth, all measured in the same GPU call.

    python3 bench/compare_decode.py fa-tune.db peers_decode.jsonl [--arch sm90]

fa-tune.db holds a `fa-tune --op decode` run (its rate column is K/V TB/s for decode rows);
peers_decode.jsonl comes from `bench/peers.py --decode` (rows with op "decode", one "copy"
row of 4 GB and, per shape, a "copy_same_bytes" row: a copy moving the shape's K/V bytes, the
bandwidth a kernel of that size can reach, shown beside the bar's 4 GB figure). K/V bytes = 2 * batch * cache length * kv heads * head dim * 2. A paged problem
(name ..._page<P>) is compared with the contiguous fa-tune run of the same shape. Layouts:
fa-tune's problems are bshd (FlashAttention's) unless named ..._bhsd (layout=bhsd in the shapes
file); the peers' rows say theirs (peers.py --kv-layout, bhsd by default). Each fa-tune row is
compared with cuDNN on the same layout where the peers file has it, else on the other, and the
summary counts the two kinds apart: the same kernel reads a bhsd cache ~1% slower
(bench/results/2026-12-06_session22), so only same-layout rows compare like with like.
The bars (issue 16): >= 90% of the copy bandwidth on shapes with >= 256 MB of K/V, >= 1.0x
cuDNN's speed, paged within 5% of contiguous at page size >= 64.
"""
import argparse
import json
import re
import sqlite3
import sys


def winners(con, arch):
    """Best ok measurement per decode problem: shape key, page size -> (variant, ms, TB/s)."""
    out = {}
    for name, d, hq, hkv, b, nq, nk, var, ms, tbps in con.execute(
            """select p.name, p.head_dim, p.heads_q, p.heads_kv, p.batch, p.seqlen_q,
                      p.seqlen_k, v.name, m.median_ms, m.tflops
               from measurements m join problems p on p.id = m.problem_id
               join variants v on v.id = m.variant_id
               where m.arch = ? and m.status = 'ok' and m.tflops > 0
                 and v.name like 'decode_%'""", (arch,)):
        page = re.search(r"_page(\d+)", name)
        key = ((d, hq, hkv, b, nk, nq), int(page.group(1)) if page else 0,
               "bhsd" if name.endswith("_bhsd") else "bshd")
        if "_uniform" in name or "_lens" in name:
            continue  # the peers run full caches only
        if key not in out or tbps > out[key][2]:
            out[key] = (var, ms, tbps)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("peers")
    ap.add_argument("--arch", default="sm90")
    a = ap.parse_args()
    best = winners(sqlite3.connect(f"file:{a.db}?mode=ro", uri=True), a.arch)
    if not best:
        sys.exit(f"compare_decode: no decode measurements for {a.arch} in {a.db}")
    peers, copy, same = {}, None, {}
    for line in open(a.peers):
        r = json.loads(line)
        if r.get("peer") == "copy":
            copy = r["tbps"]
        elif r.get("peer") == "copy_same_bytes":
            same[(r["head_dim"], r["heads_q"], r["heads_kv"], r["batch"], r["seqlen_k"],
                  r["seqlen_q"])] = r["tbps"]
        elif r.get("op") == "decode" and "median_ms" in r:
            key = (r["head_dim"], r["heads_q"], r["heads_kv"], r["batch"], r["seqlen_k"],
                   r["seqlen_q"])
            peers[(key, r["peer"], r.get("layout", "bhsd"))] = r["median_ms"]
    print(f"device copy bandwidth (same call): {copy:.2f} TB/s\n" if copy else
          "device copy bandwidth: not measured\n")
    print("| shape (hd, heads q/kv, batch x cache, seqlen_q) | page | K/V MB | fa-tune us | TB/s "
          "| % copy | % same-size copy | winner | cuDNN us | speed vs cuDNN | SDPA flash us "
          "| paged / contiguous |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    big = big_ok = pg_n = pg_ok = 0
    vs_n, vs_ok = {}, {}  # by (fa-tune's layout, cuDNN's)

    def peer(shape, name, lay):  # (time, its layout): the same layout first
        other = "bhsd" if lay == "bshd" else "bshd"
        for pl in (lay, other):
            if (shape, name, pl) in peers:
                return peers[(shape, name, pl)], pl
        return None, None
    for (shape, page, lay), (var, ms, tbps) in sorted(best.items(),
                                                      key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        d, hq, hkv, b, nk, nq = shape
        mb = 2.0 * b * nk * hkv * d * 2 / 1e6
        pct = tbps / copy if copy else float("nan")
        pct_same = f"{tbps / same[shape]:.0%}" if shape in same else ""
        cudnn, clay = peer(shape, "torch_sdpa_cudnn", lay)
        flash = peer(shape, "torch_sdpa_flash", lay)[0]
        cell = lambda t: f"{t * 1e3:.1f}" if t else "n/a"
        ratio = f"{cudnn / ms:.2f}x" if cudnn and not page else ""
        contig = best.get((shape, 0, lay))
        pr = f"{ms / contig[1]:.1%}" if page and contig else ""
        if not page and mb >= 256 and copy:
            big += 1
            big_ok += pct >= 0.9
        if cudnn and not page:
            vs_n[(lay, clay)] = vs_n.get((lay, clay), 0) + 1
            vs_ok[(lay, clay)] = vs_ok.get((lay, clay), 0) + (cudnn / ms >= 1.0)
        if page >= 64 and contig:
            pg_n += 1
            pg_ok += ms / contig[1] <= 1.05
        page_cell = f"{page or '-'}{' bhsd' if lay == 'bhsd' else ''}"
        print(f"| hd{d} {hq}/{hkv} {b}x{nk} sq{nq} | {page_cell} | {mb:.0f} | {ms * 1e3:.1f} | "
              f"{tbps:.2f} | {pct:.0%} | {pct_same} | {var.split('_')[-1]} | {cell(cudnn)} | {ratio} | "
              f"{cell(flash)} | {pr} |")
    vs = "; ".join(
        f">= 1.0x cuDNN on {vs_ok[k]} of {vs_n[k]} (" +
        (f"both on {k[0]} caches)" if k[0] == k[1] else
         f"fa-tune on {k[0]} caches, cuDNN on {k[1]}: layouts differ)")
        for k in sorted(vs_n, key=lambda k: (k[0] != k[1], k)))
    print(f"\n>= 90% of copy on {big_ok} of {big} contiguous shapes with >= 256 MB of K/V; "
          f"{vs or '>= 1.0x cuDNN on 0 of 0'}; paged within 5% on {pg_ok} of {pg_n}")


if __name__ == "__main__":
    main()
