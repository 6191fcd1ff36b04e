#!/usr/bin/env python3
"""Per FA-grid shape, the median ratio of a variant's interleaved re-timing to its first timing
in the same fa-tune run (an h2h round's database keeps both rows; a tuning run keeps one).

    python3 retime_vs_first.py h2h_1.db [h2h_2.db ...]
"""
import sqlite3
import statistics
import sys

for db in sys.argv[1:]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    first, last, rows = {}, {}, {}
    for hd, causal, n, name, tf in con.execute(
            """select p.head_dim, p.causal, p.seqlen_q, v.name, m.tflops from measurements m
               join problems p on p.id = m.problem_id join variants v on v.id = m.variant_id
               where m.status = 'ok' and p.seqlen_q = p.seqlen_k and p.heads_q = p.heads_kv
               order by m.id"""):
        first.setdefault((hd, causal, n, name), tf)
        last[(hd, causal, n, name)] = tf
        rows[(hd, causal, n, name)] = rows.get((hd, causal, n, name), 0) + 1
    ratios = {}
    for k, tf in first.items():
        if rows[k] > 1:
            ratios.setdefault(k[:3], []).append(last[k] / tf)
    print(f"== {db}: re-timing / first timing, median over the shape's variants")
    for k in sorted(ratios):
        print(f"hd{k[0]} {'causal' if k[1] else 'non-causal'} N={k[2]}: "
              f"{statistics.median(ratios[k]):.3f} ({len(ratios[k])} variants)")
