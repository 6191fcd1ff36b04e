#!/usr/bin/env python3
"""Does the L2 flush itself cost the timed kernel? (session 20, call 9)

bench/peers.py and fa-tune's harness flush L2 before each timed repetition by WRITING a buffer
of 2x the L2 size; the L2 is then full of dirty lines, which the timed kernel's own traffic
evicts, so their write-back (up to the L2 size, 50 MB on an H100) may run inside its events.
Times, with peers.py's timer (GPU spin lead, CUDA events, median of 30): a read-only sum of
537 MB and 268 MB (decode's K/V sizes), and SDPA cuDNN decode hd128 32/8 1 x 128k, each after
(a) the write flush, (b) a read flush (a sum over the same 2x-L2 buffer: leaves clean lines),
(c) the write flush followed by the read flush, (d) no flush."""
import statistics
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

l2 = torch.cuda.get_device_properties(0).L2_cache_size
buf = torch.empty(2 * l2, dtype=torch.uint8, device="cuda")
bufh = buf.view(torch.float16)


def write_flush():
    buf.fill_(7)


def read_flush():
    bufh.sum(dtype=torch.float32)


flushes = {"write": [write_flush], "read": [read_flush], "write+read": [write_flush, read_flush],
           "none": []}


def time(fn, flush, reps=30):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        for f in flush:
            f()
        torch.cuda._sleep(200_000)
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b) * 1e3)
    return statistics.median(ts)


print(torch.cuda.get_device_name(0), f"L2 {l2 >> 20} MiB")
for mb in (537, 268):
    x = torch.randn(mb * (1 << 20) // 2, dtype=torch.bfloat16, device="cuda")
    fn = lambda: x.sum(dtype=torch.float32)
    print(f"sum {mb} MB: " + ", ".join(f"{k} {time(fn, v):.1f} us" for k, v in flushes.items()))
    del x
q = torch.randn(1, 32, 1, 128, dtype=torch.bfloat16, device="cuda")
k, v = (torch.randn(1, 8, 131072, 128, dtype=torch.bfloat16, device="cuda") for _ in range(2))


def dec():
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)


for rnd in range(2):
    print(f"cuDNN decode 1x128k (round {rnd + 1}): " +
          ", ".join(f"{k_} {time(dec, v_):.1f} us" for k_, v_ in flushes.items()))
