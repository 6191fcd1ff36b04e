#!/usr/bin/env python3
"""peers.modes: bench/peers.py --from-db and bench/compare_modes.py on the CPU.

usage: test_modes.py MODES_FIXTURE_DB BENCH_DIR WORK_DIR FA_TUNE

1. modes_fixture_db writes the default job's bf16 hd128 problems through fa-tune's own code,
   each timed by an sm80 and an sm90a variant (FLOPs from fa_problem_flops over the harness's
   varlen lengths).
2. peers.py --dry-run lists the varlen and GQA problems with their padded shapes and FLOPs;
   its Python copy of the lengths and the FLOP rule must give the database's FLOPs exactly.
3. The CLI's errors: --dry-run alone, a bad --modes, a missing database, and (where PyTorch
   is absent, as on CI) a timing run that says PyTorch is needed and --dry-run works without.
4. compare_modes.py on the database and a peers file built from the dry run: a table per
   mode, the winners and families, the ratios, refused backends as "-", the summary.
5. gpu_run.sh's modes stage imports the GQA rows (not the padded varlen ones) into the
   database: fa-tune db import-peers takes them, and bench/compare.py, whose FA-grid table
   matches peers by (head dim, causal, N), still shows the dense peers' figures there, not a
   GQA row's at the same N.
6. peers.py's timing loop on fake_torch/ (a CPU stand-in whose SDPA "runs" at 400 TFLOP/s of
   the work it is given and whose cuDNN refuses enable_gqa): a row per problem and backend,
   the padded shapes and the expanded-K/V fallback as written, and compare_modes.py reads it.
   The fake host pays 50 us per call, so the rates come out exact only when the timer keeps
   the host's cost out of its events (peers.py's lead spin before each start event).
"""
import json
import os
import sqlite3
import subprocess
import sys

from peers_check import check, finish

tool, bench, work, fatune = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
db = os.path.join(work, "modes.db")


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True)


subprocess.run([tool, db], check=True, stdout=subprocess.DEVNULL)

# -- 2. the dry run ----------------------------------------------------------------------------
peers_py = os.path.join(bench, "peers.py")
r = run(peers_py, "--from-db", db, "--headdims", "128", "--dry-run")
check(r.returncode == 0, f"--dry-run exited {r.returncode}: {r.stderr}")
rows = [json.loads(x) for x in r.stdout.splitlines()]
modes = {}
for x in rows:
    modes[x["mode"]] = modes.get(x["mode"], 0) + 1
check(modes == {"varlen": 12, "varlen+gqa4": 12, "varlen+gqa8": 12, "gqa4": 12, "gqa8": 12},
      f"modes of the default job's varlen/GQA problems: {modes}")
con = sqlite3.connect(db)
names = {n for (n,) in con.execute("select name from problems")}
for x in rows:
    p = x["problem"]
    check(p in names, f"{p}: not a problem of the database")
    # the database's FLOPs are fa_problem_flops over the C lengths: equal only if the Python
    # lengths (splitmix64 from the seed) and pair counts are the same
    check("flops_db" in x and abs(x["flops"] - x["flops_db"]) <= 1e-9 * x["flops_db"],
          f"{p}: FLOPs {x['flops']} != the database's {x.get('flops_db')}")
    g = x["heads_q"] // x["heads_kv"]
    check(x["heads_q"] == 16 and g in (1, 4, 8), f"{p}: heads {x['heads_q']}/{x['heads_kv']}")
    if x["varlen"]:
        n = x["seqlen_q"]
        check(n // 2 <= x["padded_q"] <= n and x["padded_k"] == x["padded_q"],
              f"{p}: padded to {x['padded_q']}, not the longest of lengths in [N/2, N]")
        check(x["flops_padded"] >= x["flops"] and x["real_tokens"] <= x["batch"] * n,
              f"{p}: padded work below the real work")
        check(x["flops"] < x["batch"] * 4.0 * 16 * 128 * n * n * (0.5 if x["causal"] else 1),
              f"{p}: varlen FLOPs not below the full-length count")
    else:
        check(x["flops"] == x["flops_padded"] and x["padded_q"] == x["seqlen_q"],
              f"{p}: a fixed-length problem padded")
        check(g > 1, f"{p}: dense problem listed")
for m, want in (("varlen", 36), ("gqa", 48)):
    r = run(peers_py, "--from-db", db, "--headdims", "128", "--modes", m, "--dry-run")
    got = len(r.stdout.splitlines())
    check(r.returncode == 0 and got == want, f"--modes {m}: {got} rows, want {want}")

# -- 3. errors -----------------------------------------------------------------------------------
r = run(peers_py, "--dry-run")
check(r.returncode == 2 and "--dry-run needs --from-db" in r.stderr, f"--dry-run alone: {r.stderr}")
r = run(peers_py, "--from-db", db, "--modes", "paged", "--dry-run")
check(r.returncode == 2 and "unknown --modes paged" in r.stderr, f"bad --modes: {r.stderr}")
r = run(peers_py, "--from-db", os.path.join(work, "missing.db"), "--dry-run")
check(r.returncode == 1 and "cannot read" in r.stderr and "missing.db" in r.stderr,
      f"missing database: {r.stderr}")
r = run(peers_py, "--from-db", db, "--headdims", "64", "--dry-run")
check(r.returncode == 1 and "no varlen or GQA problems of head dim 64" in r.stderr,
      f"no problems: {r.stderr}")
if subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode:
    r = run(peers_py, "--from-db", db, "--headdims", "128")
    check(r.returncode == 1 and "cannot import PyTorch" in r.stderr and "--dry-run" in r.stderr,
          f"timing without PyTorch: rc {r.returncode}, {r.stderr}")

# -- 4. compare_modes.py ---------------------------------------------------------------------------
# SDPA on the padded shapes: cuDNN at 450 TFLOP/s of padded work, flash at 300; flash refuses
# GQA 8 (an "error" row, as peers.py writes when a backend refuses)
peers = os.path.join(work, "peers_modes.jsonl")
with open(peers, "w") as f:
    f.write(json.dumps({"peer": "gemm_bf16_8192", "median_ms": 1.4, "tflops": 785.0}) + "\n")
    for x in rows:
        suffix = "_padded" if x["varlen"] else ""
        for peer, rate in (("torch_sdpa_cudnn", 450.0), ("torch_sdpa_flash", 300.0)):
            row = dict(x, peer=peer + suffix, layout="bhsd", gqa_impl="enable_gqa")
            if peer == "torch_sdpa_flash" and x["heads_q"] // x["heads_kv"] == 8:
                row["error"] = "No available kernel"
            else:
                row["median_ms"] = x["flops_padded"] / (rate * 1e9)
                row["tflops"] = x["flops"] / row["median_ms"] / 1e9
            f.write(json.dumps(row) + "\n")
r = run(os.path.join(bench, "compare_modes.py"), db, peers)
check(r.returncode == 0, f"compare_modes.py exited {r.returncode}: {r.stderr}")
out = r.stdout
with open(os.path.join(work, "modes.md"), "w") as f:
    f.write(out)
for m in ("varlen", "varlen+gqa4", "varlen+gqa8", "gqa4", "gqa8"):
    check(f"\n## {m}\n" in out, f"no table for {m}")
table_rows = [x for x in out.splitlines() if x.startswith("| 0 |") or x.startswith("| 1 |")]
check(len(table_rows) == 60, f"{len(table_rows)} problem rows, want 60")
check("| causal | N | batch | heads q/kv | fa-tune winner | family | fa-tune TFLOP/s | sm80 | "
      "sm90a | cuDNN TFLOP/s (padded) | fa-tune / cuDNN |" in out, "header lacks the columns")
byname = {x["problem"]: x for x in rows}


def row_of(mode, causal, n):
    x = [x for x in rows if x["mode"] == mode and x["causal"] == causal and x["seqlen_q"] == n]
    return x[0]


# varlen non-causal 16k: sm90a wins with 0.9 * 600 * 16384 / 18384 TFLOP/s
x = row_of("varlen", 0, 16384)
fa = 0.9 * 600 * 16384 / 18384
cud = x["flops"] / (x["flops_padded"] / 450e9) / 1e9
want = (f"| 0 | 16384 | {x['batch']} | 16/16 | fwd_sm90a_hd128_bf16_varlen_m128n176s2 | sm90a | "
        f"{fa:.1f} | {0.9 * 300 * 16384 / 16984:.1f} | {fa:.1f} | {cud:.1f} | {fa / cud:.2f} |")
check(want in out, f"varlen 16k row: want '{want}'")
x = row_of("varlen", 0, 512)
check(f"| 0 | 512 | {x['batch']} | 16/16 | fwd_sm80_hd128_bf16_varlen_m128n64w4s2q | sm80 |" in out,
      "sm80 does not win varlen N = 512")
x = row_of("gqa8", 1, 4096)
cud = 450.0
fa = 600 * 4096 / 8096
check(f"| 1 | 4096 | 4 | 16/2 | fwd_sm90a_hd128_bf16_causal_m128n176s2 | sm90a | {fa:.1f} | "
      f"{300 * 4096 / 5596:.1f} | {fa:.1f} | {cud:.1f} | {fa / cud:.2f} | - | - |" in out,
      "gqa8 causal 4k row (flash refused: '-')")
check("GQA in SDPA: FA2 enable_gqa; cuDNN enable_gqa (expanded" in out,
      "the GQA implementation is not stated")
check("- **varlen**: fa-tune / cuDNN geomean" in out, "no varlen summary")
check("non-causal: sm80 at N = 512, sm90a at N = 1k-16k; causal: sm80 at N = 512, sm90a at "
      "N = 1k-16k" in out, "the summary does not say which family wins where")
r = run(os.path.join(bench, "compare_modes.py"), db, os.path.join(work, "missing.jsonl"))
check(r.returncode == 1 and "missing.jsonl" in r.stderr, f"missing peers file: {r.stderr}")

# -- 5. the GQA rows imported beside the FA grid's dense peers -----------------------------------
imp = os.path.join(work, "imported.db")
with open(db, "rb") as src, open(imp, "wb") as dst:
    dst.write(src.read())
dense = os.path.join(work, "peers_dense.jsonl")
with open(dense, "w") as f:
    for (n, causal, b) in con.execute("select seqlen_q, causal, batch from problems where"
                                      " varlen = 0 and heads_q = heads_kv"):
        for peer in ("torch_sdpa_cudnn", "torch_sdpa_flash"):
            f.write(json.dumps(dict(peer=peer, dtype="bf16", head_dim=128, causal=causal,
                                    varlen=0, batch=b, heads_q=16, heads_kv=16, seqlen_q=n,
                                    seqlen_k=n, layout="bhsd", versions="torch 2.11",
                                    median_ms=1.0, tflops=111.0)) + "\n")
gqa_only = os.path.join(work, "peers_modes_gqa.jsonl")
with open(peers) as src, open(gqa_only, "w") as dst:  # the stage's grep -v '"varlen": 1'
    dst.writelines(x for x in src if '"varlen": 1' not in x)
for path in (dense, gqa_only):
    r = subprocess.run([fatune, "db", "import-peers", "--db", imp, "--arch", "sm90", path],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"import-peers {os.path.basename(path)}: {r.stderr}")
n_gqa = sqlite3.connect(imp).execute(
    "select count(*) from peers pe join problems p on p.id = pe.problem_id"
    " where p.heads_q != p.heads_kv").fetchone()[0]
check(n_gqa == 24 * 2 - 12, f"{n_gqa} GQA peer rows imported, want 36 (flash refused gqa8)")
r = run(os.path.join(bench, "compare.py"), imp)
cmp_rows = [x for x in r.stdout.splitlines() if x.startswith("| 128 |")]
check(r.returncode == 0 and len(cmp_rows) == 12, f"compare.py: {len(cmp_rows)} rows, {r.stderr}")
check(all("| 111.0 | 111.0 |" in x for x in cmp_rows),
      "compare.py shows a GQA peer's figure as the dense shape's FA2/cuDNN")

# -- 6. the timing loop, on the fake PyTorch --------------------------------------------------------
fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_torch")
timed = os.path.join(work, "peers_fake.jsonl")
r = subprocess.run([sys.executable, peers_py, "--from-db", db, "--headdims", "128", "-o", timed],
                   capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=fake))
check(r.returncode == 0, f"peers.py on the fake PyTorch exited {r.returncode}: {r.stderr[-400:]}")
got = [json.loads(x) for x in open(timed)] if os.path.exists(timed) else []
check(len(got) == 120, f"{len(got)} timed rows, want 120 (60 problems x cuDNN, flash)")
for x in got:
    p, peer = x["problem"], x["peer"]
    check(peer.endswith("_padded") == bool(x["varlen"]), f"{p}: peer name {peer}")
    check("median_ms" in x and abs(x["tflops_padded"] - 400.0) < 1e-6 and
          abs(x["tflops"] - x["flops"] / x["median_ms"] / 1e9) < 1e-9 * x["tflops"],
          f"{p} {peer}: the rates are not the real and padded FLOPs over the padded time")
    want = "mha" if x["heads_q"] == x["heads_kv"] else (
        "expanded K/V (enable_gqa refused: No available kernel" if "cudnn" in peer
        else "enable_gqa")
    check(x["gqa_impl"].startswith(want), f"{p} {peer}: gqa_impl '{x['gqa_impl']}', want {want}")
# the modes stage's import of the GQA rows takes peers.py's own output
with open(timed) as src, open(gqa_only, "w") as dst:
    dst.writelines(x for x in src if '"varlen": 1' not in x)
with open(db, "rb") as src, open(imp, "wb") as dst:
    dst.write(src.read())
r = subprocess.run([fatune, "db", "import-peers", "--db", imp, "--arch", "sm90", gqa_only],
                   capture_output=True, text=True)
check(r.returncode == 0 and "48 peer rows" in r.stdout + r.stderr,
      f"import-peers of peers.py's GQA rows: {r.stdout} {r.stderr}")
r = run(os.path.join(bench, "compare_modes.py"), db, timed)
check(r.returncode == 0 and sum(x.startswith("| 0 |") or x.startswith("| 1 |")
                                for x in r.stdout.splitlines()) == 60,
      f"compare_modes.py on peers.py's own output: {r.stderr}")
check("GQA in SDPA: FA2 enable_gqa; cuDNN expanded K/V (expanded" in r.stdout,
      "the fallback is not stated")

finish("peers.modes ok: 60 problems, FLOPs equal to fa-tune's, tables and summary checked")
