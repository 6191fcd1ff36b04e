"""gate_winners.py GATED.db UNGATED.db -- did the stage gate lose a winner? Per problem, the
fastest ok time of each run (eager baselines left out), their ratio (geomean, range), and how
many of the ungated run's winners the gated run never compiled (call 2: exs.db, exu.db)."""
import sqlite3,sys,math
def best(db):
    c=sqlite3.connect(db)
    r={}
    for p,v,ms in c.execute("select p.name, v.name, m.median_ms from measurements m join problems p on p.id=m.problem_id join variants v on v.id=m.variant_id where m.status='ok' and m.median_ms>0 and v.family!='eager'"):
        if p not in r or ms<r[p][1]: r[p]=(v,ms)
    vs=set(x[0] for x in c.execute("select distinct v.name from measurements m join variants v on v.id=m.variant_id where m.status='ok'"))
    return r,vs
g,gv=best(sys.argv[1]); u,uv=best(sys.argv[2])
ratios=[]; missing=0; worst=[]
for p in u:
    if p not in g: print("missing problem",p); continue
    rr=g[p][1]/u[p][1]; ratios.append(rr)
    if u[p][0] not in gv: missing+=1; worst.append((rr,p,u[p][0],g[p][0]))
print("problems",len(ratios),"geomean gated/ungated best ms",math.exp(sum(map(math.log,ratios))/len(ratios)))
print("max",max(ratios),"min",min(ratios))
print("ungated winner not compiled in gated run:",missing)
for w in sorted(worst)[-8:]: print(w)
