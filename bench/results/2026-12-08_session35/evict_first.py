#!/usr/bin/env python3
"""Rewrite a copy of templates/fa_ptx.cuh (argv[1]) for an A/B of the 16-byte cp.async's L2
behaviour (argv[2]): 'nohint' drops the .L2::128B prefetch hint; 'evict_first' keeps it and
adds an L2 evict-first cache policy (K/V are streamed once: they need not stay in L2)."""
import sys

path, mode = sys.argv[1], sys.argv[2]
src = open(path).read()
old = 'asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\\n" ::"r"(smem_addr),\n                 "l"(gmem), "r"(src_bytes)\n                 : "memory");'
assert old in src, "cp_async_16 not found"
if mode == "nohint":
    new = old.replace(".L2::128B", "")
elif mode == "evict_first":
    new = ('uint64_t pol;\n    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\\n" : "=l"(pol));\n'
           '    asm volatile("cp.async.cg.shared.global.L2::cache_hint.L2::128B [%0], [%1], 16, %2, %3;\\n" ::"r"(smem_addr),\n'
           '                 "l"(gmem), "r"(src_bytes), "l"(pol)\n                 : "memory");')
else:
    sys.exit("mode: nohint | evict_first")
open(path, "w").write(src.replace(old, new))
