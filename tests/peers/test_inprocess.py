#!/usr/bin/env python3
"""peers.inprocess: fa-tune as a peer inside peers.py's process, on the CPU.

usage: test_inprocess.py BENCH_DIR WORK_DIR HEADER DECODE_HEADER CUDA_INCLUDE CUDA_STUBS
                         FAKE_DRIVER_DIR

1. bench/fa_header_peer.c builds into a shared library against two emitted headers with
   cubins: emit.embed_mixed's (sm90a bf16 hd128 causal, sm80 bf16 hd128 non-causal winners on
   sm90; no decode winners) and emit.embed_decode's (splitkv decode winners).
2. In a child process whose libcuda.so.1 is tests/emit's fake driver (it checks every launch
   against the kernel's plan and computes attention on the CPU through the params' strides and
   the tensor maps): a context made current first, as PyTorch does, then fa_peer_run on
   PyTorch-layout (BHSD) tensors in host memory -- causal and not, MHA and GQA 2, a ragged
   length -- each O and LSE against a float64 reference of the same bf16 inputs. A BSHD
   reading of the strides, a wrong K/V head or an unscaled softmax fails it.
3. fa_peer_lookup names the variant the header picks (a sm90a one for the causal mode) and
   says when the header has no kernel for a head dim; without decode winners the decode calls
   say CUDA_ERROR_NOT_SUPPORTED; with them, a GQA 4 decode that the auto rule splits (the
   combine over the scratch runs) matches the reference.
4. bench/compare_inprocess.py on two rounds of made-up rows: medians, the ratio geomean, the
   bar lines; a failed fa-tune check makes it exit 1; its decode table (time, TB/s, share of
   the round's copy, speed against cuDNN, issue 16's counts).
5. bench/peers.py refuses peer fa_tune without --fa-tune-lib and --fa-tune-lib with --from-db
   (usage errors, exit 2, before PyTorch is loaded).
"""
import ctypes
import json
import math
import os
import random
import struct
import subprocess
import sys

import peers_check
from peers_check import check



def bf16_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0] >> 16  # truncation: exact bf16 values


def bf16_value(bits):
    return struct.unpack("<f", struct.pack("<I", bits << 16))[0]


def reference(q, k, v, b, hq, hkv, n, nk, d, causal, scale):
    """float64 attention of BHSD lists (flattened); O (BHSD) and LSE (b, hq, n)."""
    o = [0.0] * (b * hq * n * d)
    lse = [0.0] * (b * hq * n)
    g = hq // hkv
    for bb in range(b):
        for h in range(hq):
            kh = h // g
            for i in range(n):
                qrow = q[((bb * hq + h) * n + i) * d:][:d]
                s = []
                for j in range(nk):
                    if causal and j > i + nk - n:
                        continue
                    krow = k[((bb * hkv + kh) * nk + j) * d:][:d]
                    s.append((j, scale * sum(a * c for a, c in zip(qrow, krow))))
                base = ((bb * hq + h) * n + i) * d
                if not s:
                    lse[(bb * hq + h) * n + i] = float("-inf")
                    continue
                m = max(x for _, x in s)
                w = [(j, math.exp(x - m)) for j, x in s]
                tot = sum(x for _, x in w)
                lse[(bb * hq + h) * n + i] = m + math.log(tot)
                for j, x in w:
                    vrow = v[((bb * hkv + kh) * nk + j) * d:][:d]
                    for c in range(d):
                        o[base + c] += x / tot * vrow[c]
    return o, lse


def inputs(rng, b, hq, hkv, nq, nk, d):
    """bf16 bits of BHSD q, k, v and ctypes arrays of them; O poisoned (NaN), LSE."""
    qb = [bf16_bits(rng.gauss(0, 1)) for _ in range(b * hq * nq * d)]
    kb, vb = ([bf16_bits(rng.gauss(0, 1)) for _ in range(b * hkv * nk * d)] for _ in range(2))
    arr = lambda bits: (ctypes.c_uint16 * len(bits))(*bits)
    o = (ctypes.c_uint16 * (b * hq * nq * d))(*([0x7fc0] * (b * hq * nq * d)))
    lse = (ctypes.c_float * (b * hq * nq))()
    return (qb, kb, vb), (arr(qb), arr(kb), arr(vb), o, lse)


def against_reference(what, bits, o, lse, b, hq, hkv, nq, nk, d, causal, scale):
    ro, rl = reference(*([bf16_value(x) for x in t] for t in bits), b, hq, hkv, nq, nk, d,
                       causal, scale)
    err = max(abs(bf16_value(o[i]) - ro[i]) for i in range(len(ro)))
    lerr = max(abs(lse[i] - rl[i]) for i in range(len(rl)))
    check(err < 2e-2, f"{what}: max|O - ref| = {err}")
    check(lerr < 1e-3, f"{what}: max|LSE - ref| = {lerr}")


def decode_child(lib, rng):
    """The decode header's shim: a GQA 4 decode (one new token, 1000 keys: the auto rule
    splits it, so the combine runs over the scratch) against the reference."""
    b, hq, hkv, nq, nk, d, scale = 1, 8, 2, 1, 1000, 128, 1.0 / math.sqrt(128)
    buf = ctypes.create_string_buffer(128)
    src = lib.fa_peer_decode_lookup(90, 1, d, 0, hq, hkv, nq, nk, buf, 128)
    check(src >= 0 and buf.value.startswith(b"decode_splitkv_hd128_bf16_m"),
          f"the decode lookup: source {src}, {buf.value}")
    nbytes = lib.fa_peer_decode_scratch(1, b, hq, hkv, nq, nk, d, 0)
    check(nbytes > 0, f"scratch for a split decode: {nbytes} bytes")
    scratch = (ctypes.c_uint8 * max(nbytes, 1))()  # zeroed, as the launcher asks
    bits, (q, k, v, o, lse) = inputs(rng, b, hq, hkv, nq, nk, d)
    rc = lib.fa_peer_run_decode(*(ctypes.addressof(x) for x in (q, k, v, o, lse)), 1, b, hq, hkv,
                                nq, nk, d, 0, scale, ctypes.addressof(scratch), nbytes, 0)
    check(rc == 0, f"fa_peer_run_decode returned {rc}")
    if rc == 0:
        against_reference(f"decode b={b} {hq}/{hkv} N={nk}", bits, o, lse, b, hq, hkv, nq, nk, d,
                          False, scale)


def bhsd_to_bshd(bits, b, h, n, d):
    """A BHSD list (flattened) in BSHD order: FlashAttention's layout in memory."""
    return [bits[((bb * h + hh) * n + i) * d + c] for bb in range(b) for i in range(n)
            for hh in range(h) for c in range(d)]


def decode_child_bshd(lib, rng):
    """fa_peer_run_decode_bshd (peers.py --kv-layout bshd): the same inputs laid out as
    (batch, seqlen, heads, dim), two new tokens so Q and O's rows interleave too; O read back
    in that order. A BHSD reading of the strides fails it."""
    b, hq, hkv, nq, nk, d, scale = 1, 8, 2, 2, 1000, 128, 1.0 / math.sqrt(128)
    nbytes = lib.fa_peer_decode_scratch(1, b, hq, hkv, nq, nk, d, 0)
    scratch = (ctypes.c_uint8 * max(nbytes, 1))()
    bits, _ = inputs(rng, b, hq, hkv, nq, nk, d)
    arr = lambda x: (ctypes.c_uint16 * len(x))(*x)
    q = arr(bhsd_to_bshd(bits[0], b, hq, nq, d))
    k, v = (arr(bhsd_to_bshd(x, b, hkv, nk, d)) for x in bits[1:])
    o = (ctypes.c_uint16 * (b * hq * nq * d))(*([0x7fc0] * (b * hq * nq * d)))
    lse = (ctypes.c_float * (b * hq * nq))()
    rc = lib.fa_peer_run_decode_bshd(*(ctypes.addressof(x) for x in (q, k, v, o, lse)), 1, b,
                                     hq, hkv, nq, nk, d, 0, scale, ctypes.addressof(scratch),
                                     nbytes, 0)
    check(rc == 0, f"fa_peer_run_decode_bshd returned {rc}")
    if rc == 0:  # O back to BHSD order for the reference (LSE is (b, hq, nq) in both)
        o_bhsd = [o[((bb * nq + i) * hq + hh) * d + c] for bb in range(b) for hh in range(hq)
                  for i in range(nq) for c in range(d)]
        against_reference(f"decode bshd b={b} {hq}/{hkv} nq={nq} N={nk}", bits, o_bhsd, lse, b,
                          hq, hkv, nq, nk, d, False, scale)


def child(lib_path, driver_dir, decode_lib_path):
    """Runs in a process whose libcuda.so.1 is the fake driver."""
    cuda = ctypes.CDLL(os.path.join(driver_dir, "libcuda.so.1"))
    ctx = ctypes.c_void_p()
    dev = ctypes.c_int()
    check(cuda.cuInit(0) == 0 and cuda.cuDeviceGet(ctypes.byref(dev), 0) == 0 and
          cuda.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0 and
          cuda.cuCtxSetCurrent(ctx) == 0, "the fake driver's context")
    lib = ctypes.CDLL(lib_path)
    lib.fa_peer_run.argtypes = [ctypes.c_uint64] * 5 + [ctypes.c_int] * 8 + [ctypes.c_float,
                                                                             ctypes.c_uint64]
    rng = random.Random(7)
    # (batch, heads_q, heads_kv, seqlen, causal): the grid's MHA, GQA 2, a ragged length
    for b, hq, hkv, n, causal in [(1, 2, 2, 17, 0), (2, 2, 2, 33, 1), (1, 4, 2, 20, 1)]:
        d, scale = 128, 1.0 / math.sqrt(128)
        bits, (q, k, v, o, lse) = inputs(rng, b, hq, hkv, n, n, d)
        rc = lib.fa_peer_run(*(ctypes.addressof(x) for x in (q, k, v, o, lse)), 1, b, hq, hkv, n,
                             n, d, causal, scale, 0)
        what = f"b={b} {hq}/{hkv} N={n} causal={causal}"
        check(rc == 0, f"{what}: fa_peer_run returned {rc}")
        if rc == 0:
            against_reference(what, bits, o, lse, b, hq, hkv, n, n, d, causal, scale)
    buf = ctypes.create_string_buffer(128)
    src = lib.fa_peer_lookup(90, 1, 128, 1, 16, 16, 1024, 1024, buf, 128)
    check(src >= 0 and buf.value.startswith(b"fwd_sm90a_hd128_bf16_causal_"),
          f"the causal hd128 lookup: source {src}, {buf.value}")
    src = lib.fa_peer_lookup(90, 1, 96, 0, 16, 16, 1024, 1024, buf, 128)
    check(src < 0 and buf.value == b"", f"hd96 (no kernel in the header): {src}, {buf.value}")
    for f in (lib.fa_peer_decode_scratch, lib.fa_peer_run_decode):
        f.restype = ctypes.c_uint64 if f is lib.fa_peer_decode_scratch else ctypes.c_int
    lib.fa_peer_run_decode.argtypes = lib.fa_peer_run.argtypes[:-1] + [ctypes.c_uint64] * 3
    rc = lib.fa_peer_run_decode(0, 0, 0, 0, 0, 1, 1, 8, 2, 1, 1000, 128, 0, 0.1, 0, 0, 0)
    check(rc == 801 and lib.fa_peer_decode_lookup(90, 1, 128, 0, 8, 2, 1, 1000, buf, 128) == -2,
          f"a header without decode winners: run {rc} (want 801, not supported)")
    dlib = ctypes.CDLL(decode_lib_path)
    dlib.fa_peer_decode_scratch.restype = ctypes.c_uint64
    dlib.fa_peer_run_decode.argtypes = lib.fa_peer_run_decode.argtypes
    decode_child(dlib, rng)
    dlib.fa_peer_run_decode_bshd.argtypes = lib.fa_peer_run_decode.argtypes
    decode_child_bshd(dlib, rng)
    return peers_check.failures


def main():
    bench, work, header, decode_header, cuda_inc, stubs, driver = sys.argv[1:8]
    os.makedirs(work, exist_ok=True)
    libs = []
    for i, h in enumerate((header, decode_header)):
        libs.append(os.path.join(work, f"libfa_header_peer{i}.so"))
        r = subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared",
                            "-fPIC", "-I" + os.path.dirname(h), "-I" + cuda_inc,
                            os.path.join(bench, "fa_header_peer.c"), "-o", libs[-1],
                            "-L" + stubs, "-lcuda"], capture_output=True, text=True)
        check(r.returncode == 0, f"building the shim against {h}: {r.stderr[-600:]}")
    lib = libs[0]
    if not peers_check.failures:
        env = dict(os.environ, LD_LIBRARY_PATH=driver)
        r = subprocess.run([sys.executable, __file__, "--child", libs[0], driver, libs[1]],
                           env=env, capture_output=True, text=True)
        sys.stderr.write(r.stderr)
        check(r.returncode == 0, f"the fake-driver run exited {r.returncode}")

    # compare_inprocess.py: two rounds; fa-tune 0.8x and 1.0x cuDNN per round at hd128 4k
    def rows(fa, cu, ok=True):
        base = dict(dtype="bf16", head_dim=128, causal=0, varlen=0, seqlen_q=4096)
        return [dict(base, peer="fa_tune", tflops=fa, variant="fwd_sm90a_x",
                     check=dict(ok=ok)), dict(base, peer="torch_sdpa_cudnn", tflops=cu),
                dict(base, peer="torch_sdpa_flash", tflops=300.0),
                dict(peer="gemm_bf16_8192", tflops=700.0)]

    paths = []
    for i, (fa, cu, ok) in enumerate([(600.0, 750.0, True), (640.0, 640.0, True)]):
        paths.append(os.path.join(work, f"round{i}.jsonl"))
        with open(paths[-1], "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in rows(fa, cu, ok))
    cmp_py = os.path.join(bench, "compare_inprocess.py")
    r = subprocess.run([sys.executable, cmp_py] + paths, capture_output=True, text=True)
    check(r.returncode == 0, f"compare_inprocess.py exited {r.returncode}: {r.stderr}")
    line = next((x for x in r.stdout.splitlines() if x.startswith("| 128 | 0 | 4096 |")), "")
    cells = [c.strip() for c in line.split("|")[1:-1]]
    check(cells[3:10] == ["fwd_sm90a_x", "620.0", "695.0", "300.0", "0.900", "2.067", "ok"],
          f"the row (medians; ratio = median of 0.8 and 1.0): {cells}")
    check("geomean 0.900, min 0.900, shapes >= 0.9: 1/1, >= 1.0: 0/1" in r.stdout,
          f"the summary: {r.stdout.splitlines()[-3:]}")
    check("hd128 non-causal N=4096: 620.0 TFLOP/s (bar 620: met)" in r.stdout, "the bar line")
    with open(paths[1], "w") as f:
        f.writelines(json.dumps(x) + "\n" for x in rows(640.0, 640.0, ok=False))
    r = subprocess.run([sys.executable, cmp_py] + paths, capture_output=True, text=True)
    check(r.returncode == 1 and "FAIL (1 of 2)" in r.stdout,
          f"a failed check: exit {r.returncode}, {r.stdout[-300:]}")

    # peers.py's refusals (the fake PyTorch of tests/peers: no GPU needed to get there)
    fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_torch")
    peers_py = os.path.join(bench, "peers.py")
    env = dict(os.environ, PYTHONPATH=fake)
    r = subprocess.run([sys.executable, peers_py, "--headdims", "128", "--seqlens", "512",
                        "--peers", "torch_sdpa_cudnn,fa_tune", "-o", os.devnull],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 2 and "fa_tune needs --fa-tune-lib" in r.stderr,
          f"fa_tune without a library: exit {r.returncode}, {r.stderr[-300:]}")
    r = subprocess.run([sys.executable, peers_py, "--from-db", paths[0], "--fa-tune-lib", lib,
                        "-o", os.devnull], capture_output=True, text=True, env=env)
    check(r.returncode == 2 and "not with --from-db" in r.stderr,
          f"--fa-tune-lib with --from-db: exit {r.returncode}, {r.stderr[-300:]}")

    # compare_inprocess.py's decode table: one shape, two rounds (copies 3.0 and 3.2 TB/s)
    def drows(fa_us, cu_us, copy):
        base = dict(op="decode", dtype="bf16", head_dim=128, heads_q=64, heads_kv=8, batch=8,
                    seqlen_k=8192, seqlen_q=1, kv_bytes=268435456)
        return [dict(peer="copy", tbps=copy),
                dict(base, peer="fa_tune", variant="decode_x", median_ms=fa_us / 1e3,
                     tbps=268435456 / fa_us / 1e6, check=dict(ok=True)),
                dict(base, peer="torch_sdpa_cudnn", median_ms=cu_us / 1e3)]

    dpaths = []
    for i, (fa_us, cu_us, copy) in enumerate([(95.0, 96.0, 3.0), (97.0, 96.0, 3.2)]):
        dpaths.append(os.path.join(work, f"decode{i}.jsonl"))
        with open(dpaths[-1], "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in drows(fa_us, cu_us, copy))
    r = subprocess.run([sys.executable, cmp_py] + dpaths, capture_output=True, text=True)
    check(r.returncode == 0, f"compare_inprocess.py (decode) exited {r.returncode}: {r.stderr}")
    line = next((x for x in r.stdout.splitlines() if x.startswith("| hd128 64/8 8x8192 sq1 |")),
                "")
    cells = [c.strip() for c in line.split("|")[1:-1]]
    # fa-tune 96 us (median of 95, 97), 2.80 TB/s, % copy the median of 2.826/3.0 and 2.767/3.2
    check(cells == ["hd128 64/8 8x8192 sq1", "268", "decode_x", "96.0", "2.80", "90%", "96.0",
                    "1.000x", "ok"], f"the decode row: {cells}")
    check(">= 90% of copy on 1 of 1 shapes with >= 256 MB of K/V; >= 1.0x cuDNN on 1 of 1"
          in r.stdout, f"the decode counts: {r.stdout.splitlines()[-1:]}")
    peers_check.finish("peers.inprocess ok: the shim on the fake driver (3 problems), lookups, "
                       "compare_inprocess.py, peers.py's refusals")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(1 if child(sys.argv[2], sys.argv[3], sys.argv[4]) else 0)
    sys.exit(main())
