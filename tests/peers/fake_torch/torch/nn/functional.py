"""Fake scaled_dot_product_attention: checks shapes the way SDPA does, "takes" time."""
import sys

import torch
from torch.nn import attention


def scaled_dot_product_attention(q, k, v, is_causal=False, scale=None, enable_gqa=False):
    b, hq, nq, d = q.shape
    hkv, nk = k.shape[1], k.shape[2]
    if hq != hkv and not enable_gqa:
        raise RuntimeError("the query and key heads differ and enable_gqa is off")
    if enable_gqa and attention.current == "CUDNN_ATTENTION":
        raise RuntimeError("No available kernel. Aborting execution.")
    if hq % hkv or k.shape != v.shape or q.dtype != k.dtype:
        raise RuntimeError("bad shapes")
    if all(getattr(t, "transposed", False) for t in (q, k, v)) and not torch.cuda.saw_views:
        torch.cuda.saw_views = True  # said once, for peers.decode's --kv-layout bshd case
        print("fake torch: SDPA on transposed views", file=sys.stderr)
    if k.storage is v.storage and not torch.cuda.saw_shared:
        torch.cuda.saw_shared = True  # said once, for peers.decode's --kv-gap-kib case
        gap = (v.offset - k.offset - k.numel()) * k.element_size()
        print(f"fake torch: K and V in one allocation, V {gap} bytes after K", file=sys.stderr)
    flops = 4.0 * b * hq * nq * nk * d * (0.5 if is_causal else 1.0)
    torch.cuda.extra = b * hq * nq * 4 + q.numel() * 2  # the LSE and the output
    torch._work(flops / 400e9)  # 400 TFLOP/s, in ms
    return torch.Tensor(q.shape, q.dtype)
