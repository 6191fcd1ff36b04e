#!/usr/bin/env python3
"""Writes copies of templates/ whose 16-byte cp.async (fa_ptx.cuh's cp_async_16, the decode
kernel's K/V loads) carries another L2 hint, for an A/B through bench/ab_bench.py:
    ef    an L2::evict_first cache policy (K/V are read once) and the 128-byte prefetch
    nopf  no L2 prefetch-size qualifier
    p256  a 256-byte L2 prefetch
Usage: hint_trees.py TEMPLATES_DIR OUT_DIR   (writes OUT_DIR/{ef,nopf,p256})"""
import pathlib
import shutil
import sys

OLD = '''    asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\\n" ::"r"(smem_addr),
                 "l"(gmem), "r"(src_bytes)
                 : "memory");'''
NEW = {
    "ef": '''    uint64_t policy;
    asm("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\\n" : "=l"(policy));
    asm volatile("cp.async.cg.shared.global.L2::cache_hint.L2::128B [%0], [%1], 16, %2, %3;\\n"
                 ::"r"(smem_addr), "l"(gmem), "r"(src_bytes), "l"(policy)
                 : "memory");''',
    "nopf": OLD.replace(".L2::128B", ""),
    "p256": OLD.replace(".L2::128B", ".L2::256B"),
}

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for arm, body in NEW.items():
    dst = out / arm
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    ptx = dst / "fa_ptx.cuh"
    text = ptx.read_text()
    if text.count(OLD) != 1:
        sys.exit(f"{ptx}: cp_async_16's asm not found once")
    ptx.write_text(text.replace(OLD, body))
    print(f"{arm}: {dst}")
