#!/usr/bin/env python3
"""Measure fa-tune's peers on the GPU: PyTorch SDPA's flash backend (FlashAttention-2), its
cuDNN and memory-efficient backends, PyTorch eager attention, and the bf16 GEMM ceiling.

Same rules as fa-tune's harness (DESIGN.md, "Timing protocol"): CUDA events around each call,
warm-up first, L2 flushed between repetitions by writing a buffer of 2x the L2 size,
repetitions until the relative standard error of the mean is under 1% (or 200 reps / 2 s),
median reported with min and CV. FLOPs: 4*B*H*Nq*Nk*D, halved for causal with Nq == Nk.

Causal: PyTorch's is_causal is top-left aligned, fa-tune's bottom-right; they agree only when
seqlen_q == seqlen_k, which is all this script runs.

Writes one JSON object per line (stdout or -o FILE); `fa-tune db import-peers FILE` stores
them in the results database beside fa-tune's own measurements.

    python3 bench/peers.py --grid fa --headdims 64,128,256 -o peers.jsonl

--decode measures the decode grid instead (issue 16; rows with "op": "decode"): seqlen_q new
tokens against a contiguous KV cache of seqlen_k rows per sequence, GQA through SDPA's
enable_gqa (each K/V byte read once by a kernel that packs the query heads), and the device
copy bandwidth of the same call (a "copy" row). Throughput is K/V bytes read per second:
2 * batch * seqlen_k * heads_kv * head_dim * 2 bytes / time. SDPA's is_causal is top-left,
so decode rows run non-causal: with seqlen_q <= 16 new tokens against a cache of >= 1k rows
the bottom-right causal mask hides at most 15 keys, far below the timing noise.

    python3 bench/peers.py --decode -o peers_decode.jsonl
"""
import argparse
import json
import math
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {
    "torch_sdpa_flash": SDPBackend.FLASH_ATTENTION,
    "torch_sdpa_cudnn": SDPBackend.CUDNN_ATTENTION,
    "torch_sdpa_efficient": SDPBackend.EFFICIENT_ATTENTION,
}


def flops(b, h, nq, nk, d, causal):
    f = 4.0 * b * h * nq * nk * d
    return f / 2 if causal and nq == nk else f


class Timer:
    def __init__(self, min_flush_bytes=64 << 20):
        l2 = torch.cuda.get_device_properties(0).L2_cache_size
        self.flush = torch.empty(max(2 * l2, min_flush_bytes), dtype=torch.uint8, device="cuda")

    def time(self, fn, max_reps=200, max_s=2.0):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        spent = 0.0
        while len(times) < max_reps and spent < max_s * 1e3:
            self.flush.fill_(len(times) & 0xFF)
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            t = start.elapsed_time(end)
            times.append(t)
            spent += t
            if len(times) >= 10:
                mean = statistics.fmean(times)
                rse = statistics.stdev(times) / math.sqrt(len(times)) / mean
                if rse < 0.01:
                    break
        med = statistics.median(times)
        mean = statistics.fmean(times)
        cv = statistics.stdev(times) / mean if len(times) > 1 else 0.0
        return med, min(times), cv, len(times)


def eager(q, k, v, causal, scale):
    s = torch.matmul(q, k.transpose(-2, -1)) * scale
    if causal:
        n, m = s.shape[-2], s.shape[-1]
        mask = torch.ones(n, m, dtype=torch.bool, device=s.device).tril(m - n)
        s = s.masked_fill(~mask, float("-inf"))
    p = torch.softmax(s, dim=-1)
    return torch.matmul(p, v)


def measure(timer, name, fn, base_alloc, out_bytes):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    try:
        fn()
        torch.cuda.synchronize()
        # extra memory beyond Q, K, V and the output O (fa-tune's definition), so a flash
        # kernel that keeps only the LSE shows its O(N) footprint, not O's size
        peak = torch.cuda.max_memory_allocated() - base_alloc - out_bytes
        med, mn, cv, reps = timer.time(fn)
        return dict(median_ms=med, min_ms=mn, cv=cv, reps=reps, peak_extra_bytes=int(peak))
    except (RuntimeError, torch.OutOfMemoryError) as e:  # backend refuses the shape or OOM
        torch.cuda.empty_cache()
        return dict(error=str(e).splitlines()[0][:200])


def gemm_ceiling(timer):
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    med, mn, cv, reps = timer.time(lambda: torch.matmul(a, b))
    return dict(peer="gemm_bf16_8192", median_ms=med, min_ms=mn, cv=cv, reps=reps,
                dtype="bf16", tflops=2 * 8192**3 / med / 1e9)


# The decode grid (issue 16): heads (query, kv), (batch, cache rows); seqlen_q 1 and 4.
DECODE_HEADS = [(32, 8), (64, 8), (16, 16), (32, 1)]
DECODE_SHAPES = [(128, 1024), (64, 4096), (16, 16384), (8, 8192), (4, 65536), (1, 131072)]


def kv_bytes(b, hkv, nk, d, elt=2):
    return 2.0 * b * nk * hkv * d * elt


def copy_bandwidth(timer, nbytes=4 << 30):
    """Device copy: read + write bytes per second of a large tensor copy (TB/s)."""
    a = torch.empty(nbytes // 2, dtype=torch.int16, device="cuda")
    b = torch.empty_like(a)
    med, mn, cv, reps = timer.time(lambda: b.copy_(a))
    del a, b
    torch.cuda.empty_cache()
    return dict(peer="copy", median_ms=med, min_ms=mn, cv=cv, reps=reps, bytes=2 * nbytes,
                tbps=2 * nbytes / med / 1e9)


def decode_shapes(path):
    """(head_dim, heads_q, heads_kv, batch, seqlen_k, seqlen_q) of a shapes file's contiguous
    op=decode lines (fa-tune's shapes-file format: key=value words, # comments)."""
    out = []
    for line in open(path):
        kv = dict(w.split("=", 1) for w in line.split("#")[0].split() if "=" in w)
        if kv.get("op") != "decode" or int(kv.get("page_size", 0)):
            continue
        hq = int(kv["heads"])
        s = (int(kv.get("headdim", 128)), hq, int(kv.get("heads_kv", hq)), int(kv["batch"]),
             int(kv["seqlen_k"]), int(kv.get("seqlen_q", 1)))
        if s not in out:
            out.append(s)
    return out


def decode_grid(args, timer, out, versions):
    dt = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    if args.shapes:
        grid = decode_shapes(args.shapes)
    else:
        grid = [(d, hq, hkv, b, nk, nq) for d in map(int, args.headdims.split(","))
                for hq, hkv in DECODE_HEADS for b, nk in DECODE_SHAPES
                for nq in map(int, args.decode_seqlen_q.split(","))]
    c = copy_bandwidth(timer)
    c.update(versions=versions)
    out.write(json.dumps(c) + "\n")
    print(f"device copy: {c['tbps']:.2f} TB/s", file=sys.stderr)
    peers = [p for p in args.peers.split(",") if p in ("torch_sdpa_flash", "torch_sdpa_cudnn")]
    for d, hq, hkv, b, nk, nq in grid:
        q = torch.randn(b, hq, nq, d, dtype=dt, device="cuda")
        k, v = (torch.randn(b, hkv, nk, d, dtype=dt, device="cuda") for _ in range(2))
        scale = 1.0 / math.sqrt(d)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        for peer in peers:
            def fn():
                return F.scaled_dot_product_attention(q, k, v, scale=scale, enable_gqa=hq != hkv)
            with sdpa_kernel(BACKENDS[peer]):  # entered once, outside the timed calls
                r = measure(timer, peer, fn, base, q.numel() * q.element_size())
            row = dict(peer=peer, op="decode", dtype=args.dtype, head_dim=d, causal=0,
                       varlen=0, batch=b, heads_q=hq, heads_kv=hkv, seqlen_q=nq,
                       seqlen_k=nk, page_size=0, layout="bhsd", versions=versions,
                       kv_bytes=kv_bytes(b, hkv, nk, d), **r)
            shape = f"d={d:3d} {hq:2d}/{hkv:2d} b={b:3d} N={nk:6d} q={nq}"
            if "median_ms" in r:
                row["tbps"] = row["kv_bytes"] / r["median_ms"] / 1e9
                print(f"{peer:18s} {shape} {r['median_ms'] * 1e3:8.1f} us "
                      f"{row['tbps']:5.2f} TB/s", file=sys.stderr)
            else:
                print(f"{peer:18s} {shape} skipped: {r['error']}", file=sys.stderr)
            out.write(json.dumps(row) + "\n")
            out.flush()
        del q, k, v
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--headdims", default="64,128,256")
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--causal", default="0,1")
    ap.add_argument("--tokens", type=int, default=16384, help="batch * seqlen")
    ap.add_argument("--hidden", type=int, default=2048, help="heads * headdim")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--peers", default="torch_sdpa_flash,torch_sdpa_cudnn,torch_sdpa_efficient,torch_eager")
    ap.add_argument("--eager-max-seqlen", type=int, default=16384)
    ap.add_argument("--decode", action="store_true", help="the decode grid (see above)")
    ap.add_argument("--decode-seqlen-q", default="1,4", help="new tokens per sequence")
    ap.add_argument("--shapes", help="--decode: the contiguous op=decode lines of a fa-tune "
                    "shapes file instead of the grid")
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args()

    if not torch.cuda.is_available():
        print("peers.py: no CUDA device visible to PyTorch", file=sys.stderr)
        return 1
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    dt = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    # A decode call lasts ~0.05-1 ms, about as long as Python's dispatch of it: a 1 GiB flush
    # (~0.25 ms) keeps the GPU busy while the host queues the start event and the call, so the
    # events time the GPU work and not the host's dispatch.
    timer = Timer(min_flush_bytes=1 << 30) if args.decode else Timer()
    # Short: reports put it in a legend; the GPU and CUDA driver are in every footer already.
    versions = f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}"
    if args.decode:
        decode_grid(args, timer, out, versions)
        return 0
    g = gemm_ceiling(timer)
    g.update(versions=versions)
    out.write(json.dumps(g) + "\n")
    print(f"gemm bf16 8192^3: {g['tflops']:.0f} TFLOP/s", file=sys.stderr)

    peers = args.peers.split(",")
    for d in map(int, args.headdims.split(",")):
        for causal in map(int, args.causal.split(",")):
            for n in map(int, args.seqlens.split(",")):
                b, h = max(1, args.tokens // n), args.hidden // d
                q, k, v = (torch.randn(b, h, n, d, dtype=dt, device="cuda") for _ in range(3))
                scale = 1.0 / math.sqrt(d)
                torch.cuda.synchronize()
                base = torch.cuda.memory_allocated()
                for peer in peers:
                    if peer == "torch_eager":
                        if n > args.eager_max_seqlen:
                            continue
                        fn = lambda: eager(q, k, v, bool(causal), scale)
                        r = measure(timer, peer, fn, base, q.numel() * q.element_size())
                    else:
                        def fn(be=BACKENDS[peer]):
                            with sdpa_kernel(be):
                                return F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal), scale=scale)
                        r = measure(timer, peer, fn, base, q.numel() * q.element_size())
                    row = dict(peer=peer, dtype=args.dtype, head_dim=d, causal=causal, varlen=0,
                               batch=b, heads_q=h, heads_kv=h, seqlen_q=n, seqlen_k=n,
                               layout="bhsd", versions=versions, **r)
                    if "median_ms" in r:
                        row["tflops"] = flops(b, h, n, n, d, causal) / r["median_ms"] / 1e9
                        print(f"{peer:22s} d={d:3d} causal={causal} N={n:5d} "
                              f"{row['tflops']:7.1f} TFLOP/s", file=sys.stderr)
                    else:
                        print(f"{peer:22s} d={d:3d} causal={causal} N={n:5d} skipped: {r['error']}",
                              file=sys.stderr)
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                del q, k, v
                torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
