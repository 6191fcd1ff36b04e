#!/usr/bin/env python3
"""peers.inprocess: fa-tune as a peer inside peers.py's process, on the CPU.

usage: test_inprocess.py BENCH_DIR WORK_DIR HEADER CUDA_INCLUDE CUDA_STUBS FAKE_DRIVER_DIR

1. bench/fa_header_peer.c builds into a shared library against an emitted header with cubins
   (emit.embed_mixed's: sm90a bf16 hd128 causal, sm80 bf16 hd128 non-causal winners on sm90).
2. In a child process whose libcuda.so.1 is tests/emit's fake driver (it checks every launch
   against the kernel's plan and computes attention on the CPU through the params' strides and
   the tensor maps): a context made current first, as PyTorch does, then fa_peer_run on
   PyTorch-layout (BHSD) tensors in host memory -- causal and not, MHA and GQA 2, a ragged
   length -- each O and LSE against a float64 reference of the same bf16 inputs. A BSHD
   reading of the strides, a wrong K/V head or an unscaled softmax fails it.
3. fa_peer_lookup names the variant the header picks (a sm90a one for the causal mode) and
   says when the header has no kernel for a head dim.
4. bench/compare_inprocess.py on two rounds of made-up rows: medians, the ratio geomean, the
   bar lines; a failed fa-tune check makes it exit 1.
5. bench/peers.py refuses peer fa_tune without --fa-tune-lib and --fa-tune-lib with --decode
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


def child(lib_path, driver_dir):
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
        qb, kb, vb = ([bf16_bits(rng.gauss(0, 1)) for _ in range(bb * n * d)]
                      for bb in (b * hq, b * hkv, b * hkv))
        arr = lambda bits: (ctypes.c_uint16 * len(bits))(*bits)
        q, k, v = arr(qb), arr(kb), arr(vb)
        o = (ctypes.c_uint16 * (b * hq * n * d))(*([0x7fc0] * (b * hq * n * d)))  # NaN
        lse = (ctypes.c_float * (b * hq * n))()
        rc = lib.fa_peer_run(ctypes.addressof(q), ctypes.addressof(k), ctypes.addressof(v),
                             ctypes.addressof(o), ctypes.addressof(lse), 1, b, hq, hkv, n, n, d,
                             causal, scale, 0)
        what = f"b={b} {hq}/{hkv} N={n} causal={causal}"
        check(rc == 0, f"{what}: fa_peer_run returned {rc}")
        if rc:
            continue
        ro, rl = reference([bf16_value(x) for x in qb], [bf16_value(x) for x in kb],
                           [bf16_value(x) for x in vb], b, hq, hkv, n, n, d, causal, scale)
        err = max(abs(bf16_value(o[i]) - ro[i]) for i in range(len(ro)))
        lerr = max(abs(lse[i] - rl[i]) for i in range(len(rl)))
        check(err < 2e-2, f"{what}: max|O - ref| = {err}")
        check(lerr < 1e-3, f"{what}: max|LSE - ref| = {lerr}")
    buf = ctypes.create_string_buffer(128)
    src = lib.fa_peer_lookup(90, 1, 128, 1, 16, 16, 1024, 1024, buf, 128)
    check(src >= 0 and buf.value.startswith(b"fwd_sm90a_hd128_bf16_causal_"),
          f"the causal hd128 lookup: source {src}, {buf.value}")
    src = lib.fa_peer_lookup(90, 1, 96, 0, 16, 16, 1024, 1024, buf, 128)
    check(src < 0 and buf.value == b"", f"hd96 (no kernel in the header): {src}, {buf.value}")
    return peers_check.failures


def main():
    bench, work, header, cuda_inc, stubs, driver = sys.argv[1:7]
    os.makedirs(work, exist_ok=True)
    lib = os.path.join(work, "libfa_header_peer.so")
    r = subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Werror", "-shared", "-fPIC",
                        "-I" + os.path.dirname(header), "-I" + cuda_inc,
                        os.path.join(bench, "fa_header_peer.c"), "-o", lib, "-L" + stubs,
                        "-lcuda"], capture_output=True, text=True)
    check(r.returncode == 0, f"building the shim: {r.stderr[-600:]}")
    if r.returncode == 0:
        env = dict(os.environ, LD_LIBRARY_PATH=driver)
        r = subprocess.run([sys.executable, __file__, "--child", lib, driver], env=env,
                           capture_output=True, text=True)
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
    r = subprocess.run([sys.executable, peers_py, "--decode", "--fa-tune-lib", lib, "-o",
                        os.devnull], capture_output=True, text=True, env=env)
    check(r.returncode == 2 and "not with --decode" in r.stderr,
          f"--fa-tune-lib with --decode: exit {r.returncode}, {r.stderr[-300:]}")
    peers_check.finish("peers.inprocess ok: the shim on the fake driver (3 problems), lookups, "
                       "compare_inprocess.py, peers.py's refusals")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(1 if child(sys.argv[2], sys.argv[3]) else 0)
    sys.exit(main())
