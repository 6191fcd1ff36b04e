#!/usr/bin/env python3
"""fa-tune's varlen and GQA problems beside cuDNN and FA2 on the same (padded) shapes: one
table per mode (varlen, gqa4, varlen+gqa8, ...) with a row per problem -- fa-tune's winner,
its kernel family, its TFLOP/s and each family's best, SDPA cuDNN's and flash's TFLOP/s from
bench/peers.py --from-db, the ratios -- then a summary of which family wins where.

    python3 bench/compare_modes.py sweep.db peers_modes.jsonl [--arch sm90,sm90a]

TFLOP/s on both sides counts the FLOPs of the problem's real sequences by fa-tune's
convention (4*B*Hq*Nq*Nk*D, halved for causal; varlen: the sum over sequences). fa-tune runs
the packed varlen problem; SDPA runs it padded to the longest sequence (peers.py says how),
so its figure is the rate a user of padded SDPA gets on the same batch. fa-tune's figure per
problem is the latest ok measurement of each variant, best variant (as bench/compare.py).
Reads the database read-only.
"""
import argparse
import json
import math
import sqlite3
import sys

from compare import family, geomean


def load_fa_tune(db, archs):
    """problem name -> (winner, TFLOP/s, {family: best TFLOP/s})."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        """select p.name, v.name, m.tflops from measurements m
           join problems p on p.id = m.problem_id join variants v on v.id = m.variant_id
           where m.arch in (%s) and m.status = 'ok' and m.tflops > 0
           order by m.id""" % ",".join("?" * len(archs)), archs).fetchall()
    con.close()
    latest = {}
    for prob, var, tf in rows:
        latest[(prob, var)] = tf
    best = {}
    for (prob, var), tf in latest.items():
        name, top, fams = best.get(prob, (None, 0.0, {}))
        fams[family(var)] = max(tf, fams.get(family(var), 0.0))
        if tf > top:
            name, top = var, tf
        best[prob] = (name, top, fams)
    return best


def load_peers(path):
    """(problem, base peer) -> row, the last row of each; base peer drops "_padded"."""
    peers = {}
    for i, line in enumerate(open(path), 1):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"compare_modes.py: {path}:{i}: not JSON: {e}")
        if "problem" not in r or "peer" not in r:
            continue  # a ceiling or an FA-grid row
        peers[(r["problem"], r["peer"].removesuffix("_padded"))] = r
    return peers


def fmt(x, spec=".1f"):
    return "-" if x is None else format(x, spec)


def n_label(n):
    return f"{n // 1024}k" if n % 1024 == 0 else str(n)


def where(ns):
    """Sorted seqlens as text: "512, 1k" or "2k-16k" for a run of the grid's doublings."""
    ns = sorted(ns)
    if len(ns) > 2 and all(b == 2 * a for a, b in zip(ns, ns[1:])):
        return f"{n_label(ns[0])}-{n_label(ns[-1])}"
    return ", ".join(n_label(n) for n in ns)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db")
    ap.add_argument("peers", help="bench/peers.py --from-db output (JSON lines)")
    ap.add_argument("--arch", default="sm90,sm90a",
                    help="measurement archs, comma-separated (default sm90,sm90a)")
    args = ap.parse_args()
    try:
        best = load_fa_tune(args.db, [a for a in args.arch.split(",") if a])
        peers = load_peers(args.peers)
    except (OSError, sqlite3.Error) as e:
        print(f"compare_modes.py: {e}", file=sys.stderr)
        return 1
    problems = {}
    for (prob, _), r in peers.items():
        problems.setdefault(prob, r)
    if not problems:
        print(f"compare_modes.py: no --from-db rows (with a \"problem\") in '{args.peers}'",
              file=sys.stderr)
        return 1
    families = sorted({f for _, _, fams in best.values() for f in fams})
    by_mode = {}
    for prob, r in problems.items():
        by_mode.setdefault(r["mode"], []).append(r)
    # how each backend ran GQA: enable_gqa, or K/V expanded beforehand where it refused
    impls = {}
    for (_, peer), r in sorted(peers.items()):
        if r.get("heads_q") != r.get("heads_kv") and "median_ms" in r:
            label = {"torch_sdpa_cudnn": "cuDNN", "torch_sdpa_flash": "FA2"}.get(peer, peer)
            impls.setdefault(label, set()).add(r.get("gqa_impl", "?").split(" (")[0])

    print("# fa-tune vs cuDNN on the varlen and GQA problems\n")
    print("TFLOP/s count the real sequences' FLOPs (fa-tune's convention: 4·B·Hq·Nq·Nk·D, "
          "halved for causal; varlen sums over sequences) on both sides. fa-tune runs varlen "
          "packed; SDPA (cuDNN, flash) runs it padded to the longest sequence of the batch, "
          "so its figure is what padded SDPA delivers on the same batch.")
    if impls:
        print("GQA in SDPA: " + "; ".join(f"{k} {' and '.join(sorted(v))}"
                                          for k, v in sorted(impls.items())) +
              " (expanded: K/V repeated to the query heads before timing, where the backend "
              "refused enable_gqa).")
    summary = []
    for mode in sorted(by_mode, key=lambda m: (m.count("+"), "varlen" not in m, m)):
        rows = sorted(by_mode[mode], key=lambda r: (r["causal"], r["seqlen_q"], r["problem"]))
        print(f"\n## {mode}\n")
        print("| causal | N | batch | heads q/kv | fa-tune winner | family | fa-tune TFLOP/s |" +
              "".join(f" {f} |" for f in families) +
              " cuDNN TFLOP/s (padded) | fa-tune / cuDNN | FA2 TFLOP/s (padded) | fa-tune / FA2 |")
        print("|---|---|---|---|---|---|---|" + "---|" * len(families) + "---|---|---|---|")
        ratios, wins = [], {}
        for r in rows:
            prob = r["problem"]
            name, tf, fams = best.get(prob, (None, None, {}))
            cud = peers.get((prob, "torch_sdpa_cudnn"), {}).get("tflops")
            fa2 = peers.get((prob, "torch_sdpa_flash"), {}).get("tflops")
            rc = tf / cud if tf and cud else None
            r2 = tf / fa2 if tf and fa2 else None
            if rc:
                ratios.append(rc)
            fam = family(name) if name else None
            if fam:
                wins.setdefault((r["causal"], fam), []).append(r["seqlen_q"])
            print(f"| {r['causal']} | {r['seqlen_q']} | {r['batch']} | "
                  f"{r['heads_q']}/{r['heads_kv']} | {name or '- (no ok timing)'} | "
                  f"{fam or '-'} | {fmt(tf)} |" +
                  "".join(f" {fmt(fams.get(f))} |" for f in families) +
                  f" {fmt(cud)} | {fmt(rc, '.2f')} | {fmt(fa2)} | {fmt(r2, '.2f')} |")
        line = f"- **{mode}**: fa-tune / cuDNN "
        if ratios:
            line += (f"geomean {geomean(ratios):.2f} (min {min(ratios):.2f}, max "
                     f"{max(ratios):.2f}, {sum(x >= 1.0 for x in ratios)}/{len(ratios)} "
                     f"at >= 1.0)")
        else:
            line += "not measured"
        parts = []
        for causal in (0, 1):
            won = [f"{f} at N = {where(wins[(causal, f)])}" for f in families
                   if (causal, f) in wins]
            if won:
                parts.append(f"{'causal' if causal else 'non-causal'}: {', '.join(won)}")
        summary.append(line + ("; wins " + "; ".join(parts) if parts else ""))
    print("\n## Summary: which family wins where\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
