#!/usr/bin/env python3
"""A model of the sm90a kernel's causal tile order (fa_plan_sm90a_tile): makespan and K/V bytes
read from DRAM for FlashAttention's grid, one group (longest first over the whole launch) against
L2-sized groups (fa_plan_sm90a_causal_group), for a grid of one block per tile (blocks handed to
SMs as they free up) and for the persistent kernel's static snake rounds.

Crude on purpose: a tile costs a fixed 2 us (1 us persistent) plus its KV blocks at 650 TFLOP/s
over 132 SMs; L2 is a 40 MB LRU of KV blocks read in time order; no bandwidth limit. It decides
which order reads less from DRAM without losing balance, not how fast a kernel runs.
usage: python3 bench/causal_order_model.py
"""
import heapq, math
from collections import OrderedDict
def group_tiles(mb, nbh, G):
    if G>=nbh: G=nbh
    ng=math.ceil(nbh/G); G=math.ceil(nbh/ng)
    out=[]
    for b0 in range(0,nbh,G):
        gs=min(G,nbh-b0)
        for m in range(mb-1,-1,-1):
            for bh in range(b0,b0+gs): out.append((m,bh))
    return out
def run(ts, mrows,bn,n,nsm,blk,fixed,kvb,persistent,l2=40e6):
    ev=[]
    if not persistent:
        free=[(0.0,i) for i in range(nsm)]; heapq.heapify(free)
        for (m,bh) in ts:
            t,i=heapq.heappop(free); nb=math.ceil(min(n,(m+1)*mrows)/bn)
            ev.append((t,bh,nb)); heapq.heappush(free,(t+fixed+nb*blk,i))
        span=max(f for f,_ in free)
    else:
        G=min(nsm,len(ts)); clock=[0.0]*G
        for r in range(math.ceil(len(ts)/G)):
            for b in range(G):
                t=r*G+((G-1-b) if r&1 else b)
                if t>=len(ts): continue
                m,bh=ts[t]; nb=math.ceil(min(n,(m+1)*mrows)/bn)
                ev.append((clock[b],bh,nb)); clock[b]+=fixed*0.5+nb*blk
        span=max(clock)
    reads=sorted((t+fixed+k*blk,bh,nb-1-k) for t,bh,nb in ev for k in range(nb))
    cache=OrderedDict(); cap=int(l2/kvb); miss=0
    for _,bh,k in reads:
        if (bh,k) in cache: cache.move_to_end((bh,k))
        else:
            miss+=1; cache[(bh,k)]=1
            if len(cache)>cap: cache.popitem(last=False)
    return span, miss*kvb/1e6
nsm=132
for (name,hd,n,nbh,mrows,bn) in [('hd256 512',256,512,256,128,64),('hd256 1k',256,1024,128,128,64),('hd256 2k',256,2048,64,128,80),('hd256 4k',256,4096,32,128,80),
        ('hd128 512',128,512,512,128,128),('hd128 1k',128,1024,256,128,128),('hd128 2k',128,2048,128,192,128),('hd128 4k',128,4096,64,192,128),('hd128 8k',128,8192,32,192,128),('hd128 16k',128,16384,16,192,128),('hd256 16k',256,16384,8,128,80),('hd64 512',64,512,1024,128,128),('hd64 16k',64,16384,32,192,128)]:
    mb=math.ceil(n/mrows); blk=4*mrows*bn*hd/(650e12/nsm)*1e6; kvb=2*bn*hd*2
    G=max(1,int(32*2**20//(n*hd*4)))
    out=[]
    for p in (0,1):
        a=run(group_tiles(mb,nbh,nbh),mrows,bn,n,nsm,blk,2.0,kvb,p)
        b=run(group_tiles(mb,nbh,G),mrows,bn,n,nsm,blk,2.0,kvb,p)
        out.append(f"{'pers' if p else 'grid'}: global {a[0]:.0f}us/{a[1]:.0f}MB  group{G} {b[0]:.0f}us/{b[1]:.0f}MB ({a[0]/b[0]:.3f}x)")
    print(f"{name:10s}", ' || '.join(out))
