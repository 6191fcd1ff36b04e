import sqlite3, sys, statistics
for db in sys.argv[1:]:
    c = sqlite3.connect(db)
    rows = c.execute("""select p.head_dim, p.causal, p.seqlen_q, v.name, m.reps, m.tflops, m.id
        from measurements m join variants v on v.id=m.variant_id join problems p on p.id=m.problem_id
        where m.status='ok' and p.heads_kv=p.heads_q and p.varlen=0 and p.dtype='bf16' order by m.id""").fetchall()
    first, re = {}, {}
    for hd, ca, n, name, reps, tf, i in rows:
        k = (hd, ca, n, name)
        if reps == 1 and k not in first: first[k] = tf
        elif reps > 1: re[k] = tf
    by = {}
    for k in re:
        if k in first: by.setdefault(k[:3], []).append(re[k] / first[k])
    print("==", db)
    for k in sorted(by):
        print("hd%d %s %5d: re/first median %.3f (%d variants)" % (k[0], "causal" if k[1] else "nc    ", k[2], statistics.median(by[k]), len(by[k])))
