#!/usr/bin/env python3
"""peers.decode: bench/peers.py --decode and bench/compare_decode.py on the CPU.

usage: test_decode.py BENCH_DIR WORK_DIR

1. peers.py --decode --shapes on fake_torch/ (SDPA "runs" at 400 TFLOP/s, a copy at 4 TB/s
   after a 10 us launch, cuDNN refuses enable_gqa): the 4 GB copy row, per contiguous shape a
   row per backend and a copy of exactly the shape's K/V bytes (`copy_same_bytes`); a paged
   line of the shapes file is left to fa-tune.
2. compare_decode.py on a database holding fa-tune's decode winners for those shapes and on
   that peers file: the rate against the 4 GB copy and against the same-size copy, cuDNN's
   ratio where it ran, the bar counts.
"""
import json
import os
import sqlite3
import subprocess
import sys

from peers_check import check, finish

bench, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)


def kv_bytes(b, hkv, nk, d):
    return 2 * b * nk * hkv * d * 2


# (head dim, heads q, heads kv, batch, cache, new tokens): GQA (cuDNN refuses it here) and MHA
shapes = [(128, 64, 8, 8, 8192, 1), (64, 16, 16, 4, 1000, 4)]
sfile = os.path.join(work, "shapes.txt")
with open(sfile, "w") as f:
    f.write("# decode shapes of the test\n")
    for d, hq, hkv, b, nk, nq in shapes:
        f.write(f"op=decode dtype=bf16 headdim={d} batch={b} heads={hq} heads_kv={hkv} "
                f"seqlen_q={nq} seqlen_k={nk}\n")
    f.write("op=decode dtype=bf16 headdim=64 batch=4 heads=16 heads_kv=16 seqlen_q=4 "
            "seqlen_k=1000 page_size=64\n")

# -- 1. peers.py --decode on the fake PyTorch -----------------------------------------------------
fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_torch")
peers = os.path.join(work, "peers_decode.jsonl")
r = subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--shapes",
                    sfile, "-o", peers], capture_output=True, text=True,
                   env=dict(os.environ, PYTHONPATH=fake))
check(r.returncode == 0, f"peers.py --decode exited {r.returncode}: {r.stderr[-400:]}")
rows = [json.loads(x) for x in open(peers)] if os.path.exists(peers) else []
copy = [x for x in rows if x["peer"] == "copy"]
def copy_tbps(nbytes):  # the fake's copy: read + write at 4 TB/s after 10 us
    return nbytes / (0.01 + nbytes / 4e9) / 1e9


check(len(copy) == 1 and copy[0]["bytes"] == 8 << 30 and
      abs(copy[0]["tbps"] - copy_tbps(8 << 30)) < 1e-6, f"one 4 GB copy: {copy}")
same = {}
for x in rows:
    if x["peer"] == "copy_same_bytes":
        same[(x["head_dim"], x["heads_q"], x["heads_kv"], x["batch"], x["seqlen_k"],
              x["seqlen_q"])] = x
check(sorted(same) == sorted(shapes), f"same-size copies for {sorted(same)}, want {shapes}")
for s, x in same.items():
    d, hq, hkv, b, nk, nq = s
    check(x["bytes"] == kv_bytes(b, hkv, nk, d),
          f"{s}: the copy moved {x['bytes']} bytes, the K/V is {kv_bytes(b, hkv, nk, d)}")
    want = copy_tbps(x["bytes"])
    check(abs(x["tbps"] - want) < 1e-6 * want, f"{s}: same-size copy {x['tbps']} TB/s, want {want}")
backend = {(x["peer"], x["batch"]): x for x in rows if x.get("op") == "decode" and
           x["peer"].startswith("torch_sdpa")}
check(len(backend) == 4, f"{len(backend)} backend rows, want 2 shapes x flash, cuDNN")
check("median_ms" not in backend.get(("torch_sdpa_cudnn", 8), {"median_ms": 0}),
      "cuDNN timed a GQA decode the fake refuses")
check("median_ms" in backend.get(("torch_sdpa_cudnn", 4), {}), "cuDNN's MHA decode not timed")

# -- 2. compare_decode.py on fa-tune's winners and that peers file --------------------------------
db = os.path.join(work, "decode.db")
if os.path.exists(db):
    os.remove(db)
con = sqlite3.connect(db)
con.executescript("""
create table variants (id integer primary key, name text);
create table problems (id integer primary key, name text, head_dim int, heads_q int,
                       heads_kv int, batch int, seqlen_q int, seqlen_k int);
create table measurements (id integer primary key, variant_id int, problem_id int, arch text,
                           status text, median_ms real, tflops real);
""")
fa_us = {8: 80.0, 4: 0.02}  # fa-tune's made-up times per shape (by batch): the MHA one beats
# the fake cuDNN's 0.04 us
for i, (d, hq, hkv, b, nk, nq) in enumerate(shapes):
    con.execute("insert into variants values (?, ?)", (i + 1, f"decode_splitkv_hd{d}_bf16_m16n64w4s2k{i}"))
    con.execute("insert into problems values (?, ?, ?, ?, ?, ?, ?, ?)",
                (i + 1, f"decode_b{b}_h{hq}_kv{hkv}_q{nq}_k{nk}_d{d}_bf16", d, hq, hkv, b, nq, nk))
    ms = fa_us[b] / 1e3
    con.execute("insert into measurements values (null, ?, ?, 'sm90', 'ok', ?, ?)",
                (i + 1, i + 1, ms, kv_bytes(b, hkv, nk, d) / ms / 1e9))
# the MHA shape once more on a bhsd cache (PyTorch's layout, as SDPA's): slower than cuDNN
d, hq, hkv, b, nk, nq = shapes[1]
con.execute("insert into variants values (9, 'decode_splitkv_hd64_bf16_m16n64w4s2k0')")
con.execute("insert into problems values (9, ?, ?, ?, ?, ?, ?, ?)",
            (f"decode_b{b}_h{hq}_kv{hkv}_q{nq}_k{nk}_d{d}_bf16_bhsd", d, hq, hkv, b, nq, nk))
con.execute("insert into measurements values (null, 9, 9, 'sm90', 'ok', ?, ?)",
            (1e-3, kv_bytes(b, hkv, nk, d) / 1e-3 / 1e9))
con.commit()
con.close()
r = subprocess.run([sys.executable, os.path.join(bench, "compare_decode.py"), db, peers],
                   capture_output=True, text=True)
check(r.returncode == 0, f"compare_decode.py exited {r.returncode}: {r.stderr[-400:]}")
out = r.stdout
check("| % copy | % same-size copy |" in out, "no same-size copy column")
row = next((x for x in out.splitlines() if x.startswith("| hd128 64/8 8x8192 sq1 |")), "")
cells = [c.strip() for c in row.split("|")[1:-1]]
tbps = kv_bytes(8, 8, 8192, 128) / 80e-6 / 1e12
pct_same = round(100 * tbps / same[shapes[0]]["tbps"]) if shapes[0] in same else None
check(len(cells) == 12 and cells[5] == f"{round(100 * tbps / copy[0]['tbps'])}%" and
      cells[6] == f"{pct_same}%", f"hd128 row's rates: {cells}")
check(cells[5] != cells[6], "the same-size copy's figure equals the 4 GB copy's")
check(">= 1.0x cuDNN on 1 of 1 (fa-tune on bshd caches, cuDNN on bhsd: layouts differ)" in out,
      f"the cuDNN count (bshd): {out.splitlines()[-1]}")
check(">= 1.0x cuDNN on 0 of 1 (both on bhsd caches)" in out,
      f"the cuDNN count (bhsd, counted apart): {out.splitlines()[-1]}")
mha = [x for x in out.splitlines() if x.startswith("| hd64 16/16 4x1000 sq4 |")]
check(len(mha) == 2 and sum("| - bhsd | " in x for x in mha) == 1 and
      sum(" 1.0 | " in x for x in mha) == 1, f"the MHA shape's bshd and bhsd rows: {mha}")

# -- peers.py --decode --stream side: every call on one side stream, said in the rows ---------
r = subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--shapes",
                    sfile, "--stream", "side", "-o", os.path.join(work, "side.jsonl")],
                   capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=fake))
check(r.returncode == 0, f"peers.py --stream side exited {r.returncode}: {r.stderr[-400:]}")
check(r.stderr.count("fake torch: set_stream(") == 1, "--stream side did not set one stream")
side = [json.loads(x) for x in open(os.path.join(work, "side.jsonl"))] \
    if os.path.exists(os.path.join(work, "side.jsonl")) else []
check(side and all(x["versions"].endswith(", side stream") for x in side),
      "rows of --stream side do not say so in their versions")
check(all(not x["versions"].endswith("side stream") for x in rows),
      "rows on the default stream say side stream")
r = subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--stream",
                    "other", "-o", os.devnull], capture_output=True, text=True,
                   env=dict(os.environ, PYTHONPATH=fake))
check(r.returncode == 2 and "--stream" in r.stderr, f"--stream other: {r.returncode}")

# -- peers.py --decode --kv-layout bshd: SDPA on transposed views of BSHD memory, said in rows -
r = subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--shapes",
                    sfile, "--kv-layout", "bshd", "-o", os.path.join(work, "bshd.jsonl")],
                   capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=fake))
check(r.returncode == 0, f"peers.py --kv-layout bshd exited {r.returncode}: {r.stderr[-400:]}")
check("fake torch: SDPA on transposed views" in r.stderr, "--kv-layout bshd: SDPA got no views")
check("fake torch: SDPA on transposed views" not in
      subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--shapes",
                      sfile, "-o", os.devnull], capture_output=True, text=True,
                     env=dict(os.environ, PYTHONPATH=fake)).stderr,
      "the default layout handed SDPA views")
bshd = [json.loads(x) for x in open(os.path.join(work, "bshd.jsonl"))] \
    if os.path.exists(os.path.join(work, "bshd.jsonl")) else []
dec = [x for x in bshd if x["peer"].startswith("torch_sdpa")]
check(dec and all(x["layout"] == "bshd" for x in dec), "--kv-layout bshd rows' layout")
check(all(x["layout"] == "bhsd" for x in rows if x["peer"].startswith("torch_sdpa")),
      "default rows' layout is not bhsd")
# -- peers.py --decode --kv-gap-kib: K and V views of one allocation, V the gap after K -----
for lay in ("bhsd", "bshd"):
    gp = os.path.join(work, f"gap_{lay}.jsonl")
    r = subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--shapes",
                        sfile, "--kv-layout", lay, "--kv-gap-kib", "64", "-o", gp],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=fake))
    check(r.returncode == 0, f"--kv-gap-kib 64 ({lay}) exited {r.returncode}: {r.stderr[-400:]}")
    check(f"fake torch: K and V in one allocation, V {64 * 1024} bytes after K" in r.stderr,
          f"--kv-gap-kib 64 ({lay}): SDPA did not get K and V 64 KiB apart in one allocation")
    gr = [json.loads(x) for x in open(gp)] if os.path.exists(gp) else []
    gr = [x for x in gr if x["peer"].startswith("torch_sdpa")]
    check(gr and all(x.get("kv_gap_kib") == 64 and x["layout"] == lay for x in gr),
          f"--kv-gap-kib 64 ({lay}): the rows do not say the gap and layout")
check("K and V in one allocation" not in
      subprocess.run([sys.executable, os.path.join(bench, "peers.py"), "--decode", "--shapes",
                      sfile, "-o", os.devnull], capture_output=True, text=True,
                     env=dict(os.environ, PYTHONPATH=fake)).stderr,
      "by default K and V are one allocation")
check(all("kv_gap_kib" not in x for x in rows), "default rows carry a kv_gap_kib")
for bad, what in ((["--kv-gap-kib", "4"], "--kv-gap-kib without --decode"),
                  (["--kv-layout", "bshd"], "--kv-layout without --decode"),
                  (["--decode", "--kv-gap-kib", "-2"], "--kv-gap-kib -2")):
    r = subprocess.run([sys.executable, os.path.join(bench, "peers.py"), *bad, "-o", os.devnull],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=fake))
    check(r.returncode == 2, f"{what}: exit {r.returncode}, want a usage error (2)")

# compare_decode.py on both peers files: each fa-tune row against cuDNN on its own layout
both = os.path.join(work, "both.jsonl")
with open(both, "w") as f:
    f.writelines(list(open(peers)) + list(open(os.path.join(work, "bshd.jsonl"))))
r = subprocess.run([sys.executable, os.path.join(bench, "compare_decode.py"), db, both],
                   capture_output=True, text=True)
last = r.stdout.splitlines()[-1] if r.stdout else r.stderr[-300:]
check(r.returncode == 0 and ">= 1.0x cuDNN on 1 of 1 (both on bshd caches)" in last and
      ">= 1.0x cuDNN on 0 of 1 (both on bhsd caches)" in last and "differ" not in last,
      f"compare_decode on both layouts' peers: {last}")

finish("peers.decode ok: copies of each shape's bytes, backend rows, compare_decode's columns, "
       "--stream side, --kv-layout bshd, --kv-gap-kib")
