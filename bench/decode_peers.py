#!/usr/bin/env python3
"""Time PyTorch SDPA (cuDNN and flash backends, enable_gqa) on bench/decode_check.cu's decode
shapes, contiguous cache, non-causal, bf16: the peers of the splitkv family in the same GPU
session (bench/decode_gpu.sh). CUDA events, L2 flushed between reps, median of 20 after 3
warm-ups; K/V bytes = 2 * batch * len * heads_kv * D * 2. A backend that refuses a shape
prints n/a. Prints one table to stdout."""
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

# (hd, hq, hkv, batch, len, sq): keep in step with g_shapes in bench/decode_check.cu
SHAPES = [
    (128, 32, 8, 64, 4096, 1), (128, 32, 8, 16, 16384, 1), (128, 32, 8, 4, 65536, 1),
    (128, 32, 8, 1, 131072, 1), (128, 64, 8, 8, 8192, 1), (128, 32, 8, 128, 1024, 1),
    (128, 32, 8, 64, 4096, 4), (128, 32, 8, 1, 131072, 4), (128, 32, 1, 32, 8192, 1),
    (128, 16, 16, 32, 8192, 1), (64, 16, 16, 32, 8192, 1), (64, 32, 8, 64, 4096, 1),
    (64, 32, 8, 1, 131072, 1), (64, 32, 1, 64, 8192, 4), (256, 32, 8, 16, 8192, 1),
    (256, 16, 16, 8, 16384, 1), (256, 32, 8, 1, 65536, 4), (128, 64, 8, 128, 4096, 4),
]


def time_ms(fn, flush, reps=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for r in range(reps):
        flush.fill_(r & 0xFF)
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    return statistics.median(ts)


def main():
    flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    print(f"{'shape (hd heads batch x len sq)':32s} {'KV MB':>9s} {'cudnn us':>9s} {'TB/s':>6s} "
          f"{'flash us':>9s} {'TB/s':>6s}")
    for hd, hq, hkv, b, n, sq in SHAPES:
        q = torch.randn(b, hq, sq, hd, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(b, hkv, n, hd, device="cuda", dtype=torch.bfloat16)
        v = torch.randn_like(k)
        kv = 2 * b * n * hkv * hd * 2
        row = f"hd{hd} {hq}/{hkv} {b}x{n} sq{sq}"
        out = f"{row:32s} {kv / 1e6:9.1f}"
        for be in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION):
            try:
                with sdpa_kernel([be]):
                    fn = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=hq != hkv)
                    ms = time_ms(fn, flush)
                out += f" {ms * 1e3:9.1f} {kv / (ms * 1e-3) / 1e12:6.2f}"
            except Exception as e:  # a backend that refuses the shape
                print(f"{row}: {be}: {str(e).splitlines()[0][:100]}", file=sys.stderr)
                out += f" {'n/a':>9s} {'':>6s}"
        print(out, flush=True)
        del q, k, v


if __name__ == "__main__":
    main()
