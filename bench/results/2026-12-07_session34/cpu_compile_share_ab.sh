#!/bin/bash
# Session 34 (as run): A/B of the shared compiles on this 2-core machine, alternated base, new,
# base, new. A cold compile-only sweep of the first 156 legal splitkv variants (sm90, hd128).
# base: a worktree of 500cb45 built in /tmp/base34; new: this tree (ef126d4). Log: cpu_compile_share_ab.log
for arm in base new base2 new2; do
  case $arm in base*) bin=/tmp/base34/build/fa-tune;; *) bin=/work/main/build/fa-tune;; esac
  rm -rf /tmp/kcab; 
  /usr/bin/time -f "$arm %e s wall %U user %S sys" $bin compile --arch sm90 --family splitkv --headdim 128 --limit 156 --cache-dir /tmp/kcab --format csv >/tmp/ab_$arm.csv 2>/tmp/ab_$arm.err
  tail -1 /tmp/ab_$arm.err; grep "variants for" /tmp/ab_$arm.err; echo "entries: $(ls /tmp/kcab | wc -l)"
done
