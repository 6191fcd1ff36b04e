#!/bin/bash
# A/B: cold compile-only sweep of the first 156 legal splitkv variants (hd128, sm90), base then new then new
for arm in base new base2 new2; do
  case $arm in base*) bin=/tmp/base34/build/fa-tune;; *) bin=/work/main/build/fa-tune;; esac
  rm -rf /tmp/kcab; 
  /usr/bin/time -f "$arm %e s wall %U user %S sys" $bin compile --arch sm90 --family splitkv --headdim 128 --limit 156 --cache-dir /tmp/kcab --format csv >/tmp/ab_$arm.csv 2>/tmp/ab_$arm.err
  tail -1 /tmp/ab_$arm.err; grep "variants for" /tmp/ab_$arm.err; echo "entries: $(ls /tmp/kcab | wc -l)"
done
