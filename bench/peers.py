#!/usr/bin/env python3
"""Measure fa-tune's peers on the GPU: PyTorch SDPA's flash backend (FlashAttention-2), its
cuDNN and memory-efficient backends, PyTorch eager attention, and the bf16 GEMM ceiling.

Same rules as fa-tune's harness (DESIGN.md, "Timing protocol"): CUDA events around each call,
warm-up first, L2 flushed between repetitions by reading a buffer of 2x the L2 size,
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

--from-db DB measures the varlen and GQA problems of an fa-tune database instead (issue 15:
fa-tune's varlen and GQA TFLOP/s beside cuDNN's on the same shapes); bench/compare_modes.py
then tables them against fa-tune's winners. Rows carry "problem" (fa-tune's problem name) and
"mode". How each mode is run:
  varlen  SDPA has no packed (cu_seqlens) entry point for these backends, so the batch is
          padded: batch x L x heads x dim with L the longest of the problem's real lengths
          (the lengths fa-tune draws: uniform in [N/2, N] from the problem's seed, stored in
          the database, by the same splitmix64 stream as fa_varlen_lengths). TFLOP/s counts
          the FLOPs of the real lengths, as fa-tune does (sum over sequences of 4*Hq*l^2*D,
          halved for causal), over the padded call's time: the rate a user of padded SDPA
          gets on that batch ("tflops"; "tflops_padded" counts the padded work instead).
          Causal (top-left with Nq = Nk = L) is exact for every real row, the padding at the
          end of each sequence being invisible to them; non-causal runs without a key-padding
          mask (a mask would take SDPA off the flash and cuDNN kernels), the same work as a
          masked call. Peer names end in "_padded" so an import never passes them off as a
          varlen kernel.
  gqa     heads_q query heads over heads_kv K/V heads through SDPA's enable_gqa; a backend
          that refuses it is timed on K/V expanded to heads_q heads beforehand (not timed),
          and the row says so ("gqa_impl").
--dry-run prints the rows' shapes and FLOPs without PyTorch or a GPU.

--serve times FlashAttention's grid shape by shape as standard input names them, one
"HD CAUSAL N" line at a time, and answers each on standard output with "done HD CAUSAL N" once
its rows are in -o FILE, PyTorch loaded once: bench/h2h_alternate.sh alternates it with
`fa-tune bench` so that both sides of a shape are timed in the same state of the GPU.

    printf '64 1 512\n' | python3 bench/peers.py --serve -o peers.jsonl

    python3 bench/peers.py --from-db sweep.db --headdims 128 -o peers_modes.jsonl

--fa-tune-lib SO adds fa-tune itself as peer "fa_tune" (FlashAttention's grid, or with --decode
the decode grid), timed in this process beside the others (bench/fa_tune_peer.py: why, and how
each of its outputs is checked), through a dispatch header emitted with --embed-cubin and
bench/fa_header_peer.c built into SO; bench/gpu_run.sh's h2hp and decodep stages do all of it
and bench/compare_inprocess.py tables the ratios.
"""
import argparse
import json
import math
import sqlite3
import statistics
import sys

torch = F = SDPBackend = sdpa_kernel = None
BACKENDS = {}


def load_torch():
    """Import PyTorch (timing needs it; --dry-run does not). Exits with a message if absent."""
    global torch, F, SDPBackend, sdpa_kernel
    try:
        import torch as t
        import torch.nn.functional as f
        from torch.nn.attention import SDPBackend as b, sdpa_kernel as k
    except ImportError as e:
        print(f"peers.py: cannot import PyTorch ({e}): timing needs it; --dry-run lists the "
              f"shapes without it", file=sys.stderr)
        sys.exit(1)
    torch, F, SDPBackend, sdpa_kernel = t, f, b, k
    BACKENDS.update({
        "torch_sdpa_flash": SDPBackend.FLASH_ATTENTION,
        "torch_sdpa_cudnn": SDPBackend.CUDNN_ATTENTION,
        "torch_sdpa_efficient": SDPBackend.EFFICIENT_ATTENTION,
    })


def flops(b, h, nq, nk, d, causal):
    f = 4.0 * b * h * nq * nk * d
    return f / 2 if causal and nq == nk else f


class Timer:
    # GPU cycles of torch.cuda._sleep queued before each start event (~100-130 us at 1.5-2 GHz):
    # the host enqueues the start event and the call while the GPU still spins, so the events
    # time the GPU's work only. Without it a call's own host cost (Python, SDPA's dispatch and
    # cuDNN's graph lookup: tens of us) showed up as idle GPU time whenever it outlasted the
    # flush: cuDNN's short shapes measured 5-50% apart between two calls on one H200
    # (bench/results/2026-12-03_h200_session6, call 5), fa-tune's (Driver API launches) did not.
    LEAD_CYCLES = 200_000

    def __init__(self, min_flush_bytes=64 << 20):
        l2 = torch.cuda.get_device_properties(0).L2_cache_size
        # Flushed by reading it (a sum): a read leaves the L2 clean, where a write (fill_, as
        # until 2026-12-06) left it full of dirty lines whose write-back then ran inside the
        # next timed call (9 us of a 180 us decode call on an H100; bench/results/
        # 2026-12-06_session20/flush_probe.py). fa-tune's harness flushes the same way.
        self.flush = torch.empty(max(2 * l2, min_flush_bytes), dtype=torch.uint8,
                                 device="cuda").view(torch.float16)

    def time(self, fn, max_reps=200, max_s=2.0):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        spent = 0.0
        while len(times) < max_reps and spent < max_s * 1e3:
            self.flush.sum(dtype=torch.float32)
            torch.cuda._sleep(self.LEAD_CYCLES)
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
        # (never below 0: a call that frees what base_alloc counted has no extra memory)
        peak = max(0, torch.cuda.max_memory_allocated() - base_alloc - out_bytes)
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


def decode_tensors(args, dt, d, hq, hkv, b, nk, nq):
    """Q, K and V of one decode shape, random, in --kv-layout as SDPA's (b, h, s, d) views; with
    --kv-gap-kib, K and V are two views of one allocation, V that many KiB after K's end."""
    bshd = args.kv_layout == "bshd"
    # FlashAttention's layout in memory, (batch, seqlen, heads, dim), is handed to SDPA as the
    # (batch, heads, seqlen, dim) views it takes: the heads' rows interleave
    shape = (b, nk, hkv, d) if bshd else (b, hkv, nk, d)
    q = (torch.randn(b, nq, hq, d, dtype=dt, device="cuda").transpose(1, 2) if bshd
         else torch.randn(b, hq, nq, d, dtype=dt, device="cuda"))
    if args.kv_gap_kib < 0:
        k, v = (torch.randn(shape, dtype=dt, device="cuda") for _ in range(2))
    else:
        n = math.prod(shape)
        gap = args.kv_gap_kib * 512  # elements of 2 bytes (bf16, fp16)
        buf = torch.randn(2 * n + gap, dtype=dt, device="cuda")
        k, v = buf[:n].view(shape), buf[n + gap:].view(shape)
    if bshd:
        k, v = k.transpose(1, 2), v.transpose(1, 2)
    return q, k, v


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
    if args.fa_tune:
        peers.append("fa_tune")
    for d, hq, hkv, b, nk, nq in grid:
        q, k, v = decode_tensors(args, dt, d, hq, hkv, b, nk, nq)
        scale = 1.0 / math.sqrt(d)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        for peer in peers:
            extra = {}
            if peer == "fa_tune":
                r, extra = args.fa_tune.timed(measure, timer, base, q, k, v, False, scale,
                                              op="decode")
            else:
                def fn():
                    return F.scaled_dot_product_attention(q, k, v, scale=scale,
                                                          enable_gqa=hq != hkv)
                with sdpa_kernel(BACKENDS[peer]):  # entered once, outside the timed calls
                    r = measure(timer, peer, fn, base, q.numel() * q.element_size())
            row = dict(peer=peer, op="decode", dtype=args.dtype, head_dim=d, causal=0,
                       varlen=0, batch=b, heads_q=hq, heads_kv=hkv, seqlen_q=nq,
                       seqlen_k=nk, page_size=0, layout=args.kv_layout, versions=versions,
                       **({"kv_gap_kib": args.kv_gap_kib} if args.kv_gap_kib >= 0 else {}),
                       kv_bytes=kv_bytes(b, hkv, nk, d), **extra, **r)
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
        # A copy moving as many bytes as the shape's K/V (read half, write half): the copy
        # bandwidth at this size, launch and ramp included, beside the 4 GB copy above.
        cs = copy_bandwidth(timer, nbytes=int(kv_bytes(b, hkv, nk, d)) // 2 // 256 * 256)
        cs.update(peer="copy_same_bytes", op="decode", head_dim=d, heads_q=hq, heads_kv=hkv,
                  batch=b, seqlen_q=nq, seqlen_k=nk, versions=versions)
        out.write(json.dumps(cs) + "\n")


# ---- the varlen and GQA problems of an fa-tune database (--from-db) ----------------------

MASK64 = (1 << 64) - 1


def splitmix64(state):
    """fa_splitmix64: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def varlen_lengths(seed, seqlen, batch):
    """fa_varlen_lengths: batch lengths uniform in [seqlen/2, seqlen] from seed's stream."""
    lo = max(seqlen // 2, 1)
    s, out = seed & MASK64, []
    for _ in range(batch):
        s, x = splitmix64(s)
        out.append(lo + x % (seqlen - lo + 1))
    return out


def visible_pairs(sq, sk, causal):
    """fa_problem.c's visible_pairs: (query, key) pairs of one sequence, causal bottom-right
    aligned and halved when sq == sk (the benchmark convention)."""
    if not causal:
        return float(sq) * sk
    if sq == sk:
        return 0.5 * sq * sk
    return float(sum(min(i + sk - sq + 1, sk) for i in range(sq) if i + sk - sq >= 0))


def mode_of(varlen, hq, hkv):
    g = hq // hkv if hkv else 1
    m = (["varlen"] if varlen else []) + ([f"gqa{g}"] if g > 1 else [])
    return "+".join(m) or "dense"


def db_mode_problems(path, headdims, dtypes, modes):
    """The forward varlen and/or GQA problems of an fa-tune database, each with its real
    lengths (fa_harness_varlen_lengths: lens_k = lens_q when seqlen_k == seqlen_q, else drawn
    from seed + 1), its FLOPs by fa-tune's convention (fa_problem_flops) and the padded shape
    SDPA runs. Where the database holds an ok timing, its FLOPs (tflops * median_ms) are
    returned too ("flops_db"), a check that both sides count the same work."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    cols = {r[1] for r in con.execute("pragma table_info(problems)")}
    op = "and p.op = 'fwd'" if "op" in cols else ""
    rows = con.execute(
        f"""select p.id, p.name, p.dtype, p.head_dim, p.causal, p.varlen, p.batch, p.heads_q,
                   p.heads_kv, p.seqlen_q, p.seqlen_k, p.seed
            from problems p where (p.varlen = 1 or p.heads_q != p.heads_kv) {op}
            order by p.dtype, p.head_dim, p.varlen, p.heads_q / p.heads_kv, p.causal,
                     p.seqlen_q, p.name""").fetchall()
    db_flops = {}
    for pid, tf, ms in con.execute(
            "select problem_id, tflops, median_ms from measurements where status = 'ok' and"
            " tflops > 0 and median_ms > 0 order by id"):
        db_flops[pid] = tf * ms * 1e9
    out = []
    for (pid, name, dtype, hd, causal, varlen, b, hq, hkv, nq, nk, seed) in rows:
        mode = mode_of(varlen, hq, hkv)
        wanted = ("varlen" in modes and varlen) or ("gqa" in modes and hq != hkv)
        if hd not in headdims or dtype not in dtypes or not wanted:
            continue
        seed &= MASK64  # SQLite stores the 64-bit seed as a signed integer
        row = dict(problem=name, mode=mode, dtype=dtype, head_dim=hd, causal=causal,
                   varlen=varlen, batch=b, heads_q=hq, heads_kv=hkv, seqlen_q=nq, seqlen_k=nk)
        if varlen and name.rsplit("_", 1)[-1].startswith("lens"):
            # a seqlens file's lengths are not stored: the database's timing gives the FLOPs,
            # and the padding is to the problem's maximum
            row.update(padded_q=nq, padded_k=nk, real_tokens=None, lengths="seqlens file",
                       flops=db_flops.get(pid))
        elif varlen:
            lq = varlen_lengths(seed, nq, b)
            lk = lq if nk == nq else varlen_lengths(seed + 1, nk, b)
            pairs = sum(visible_pairs(x, y, causal) for x, y in zip(lq, lk))
            row.update(padded_q=max(lq), padded_k=max(lk), real_tokens=sum(lq),
                       lengths=f"uniform [N/2, N], seed {seed}", flops=4.0 * hq * hd * pairs)
        else:
            row.update(padded_q=nq, padded_k=nk, real_tokens=b * nq, lengths="fixed",
                       flops=4.0 * hq * hd * b * visible_pairs(nq, nk, causal))
        pq, pk = row["padded_q"], row["padded_k"]
        row["flops_padded"] = 4.0 * hq * hd * b * visible_pairs(pq, pk, causal)
        if pid in db_flops:
            row["flops_db"] = db_flops[pid]
        out.append(row)
    con.close()
    return out


def modes_grid(args, timer, out, versions):
    """Time SDPA's flash and cuDNN backends on the database's varlen/GQA problems."""
    shapes = db_mode_problems(args.from_db, set(map(int, args.headdims.split(","))),
                              set(args.dtypes.split(",")), set(args.modes.split(",")))
    peers = [p for p in args.peers.split(",") if p in ("torch_sdpa_flash", "torch_sdpa_cudnn")]
    for sh in shapes:
        if sh["flops"] is None:
            print(f"{sh['problem']}: skipped, no FLOP count (seqlens-file lengths and no timing)",
                  file=sys.stderr)
            continue
        if sh["causal"] and sh["padded_q"] != sh["padded_k"]:
            print(f"{sh['problem']}: skipped, causal with Nq != Nk (SDPA's is_causal is "
                  f"top-left aligned, fa-tune's bottom-right)", file=sys.stderr)
            continue
        dt = torch.bfloat16 if sh["dtype"] == "bf16" else torch.float16
        b, hq, hkv, d = sh["batch"], sh["heads_q"], sh["heads_kv"], sh["head_dim"]
        pq, pk, causal = sh["padded_q"], sh["padded_k"], bool(sh["causal"])
        q = torch.randn(b, hq, pq, d, dtype=dt, device="cuda")
        k, v = (torch.randn(b, hkv, pk, d, dtype=dt, device="cuda") for _ in range(2))
        scale = 1.0 / math.sqrt(d)
        is_causal = causal  # Nq = Nk here: top-left and bottom-right agree
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        for peer in peers:
            impl = "enable_gqa" if hq != hkv else "mha"

            def fn(kk=k, vv=v, gqa=hq != hkv):
                return F.scaled_dot_product_attention(q, kk, vv, is_causal=is_causal,
                                                      scale=scale, enable_gqa=gqa)
            with sdpa_kernel(BACKENDS[peer]):
                r = measure(timer, peer, fn, base, q.numel() * q.element_size())
                if "error" in r and hq != hkv:
                    refused = r["error"]
                    ke, ve = (x.repeat_interleave(hq // hkv, dim=1) for x in (k, v))
                    torch.cuda.synchronize()
                    base_e = torch.cuda.memory_allocated()
                    r = measure(timer, peer, lambda: fn(ke, ve, False), base_e,
                                q.numel() * q.element_size())
                    impl = f"expanded K/V (enable_gqa refused: {refused[:80]})"
                    del ke, ve
            row = dict(sh, peer=peer + ("_padded" if sh["varlen"] else ""), layout="bhsd",
                       gqa_impl=impl, versions=versions, **r)
            tag = f"{sh['mode']:12s} causal={sh['causal']} N={sh['seqlen_q']:5d}"
            if "median_ms" in r:
                row["tflops"] = sh["flops"] / r["median_ms"] / 1e9
                row["tflops_padded"] = sh["flops_padded"] / r["median_ms"] / 1e9
                print(f"{row['peer']:24s} {tag} {row['tflops']:7.1f} TFLOP/s"
                      f" ({row['tflops_padded']:.1f} on the padded work; {impl})", file=sys.stderr)
            else:
                print(f"{row['peer']:24s} {tag} skipped: {r['error']}", file=sys.stderr)
            out.write(json.dumps(row) + "\n")
            out.flush()
        del q, k, v
        torch.cuda.empty_cache()


def grid_dims(args, d, n):
    """Batch and heads of FlashAttention's grid shape at head dim d, N = n: batch x N =
    --tokens, heads x d = --hidden."""
    return max(1, args.tokens // n), args.hidden // d


def grid_shape(args, timer, out, versions, peers, d, causal, n, dt):
    """One shape of FlashAttention's grid (head dim d, causal, N = n; grid_dims): each peer
    timed, a JSON row each to out."""
    b, h = grid_dims(args, d, n)
    q, k, v = (torch.randn(b, h, n, d, dtype=dt, device="cuda") for _ in range(3))
    scale = 1.0 / math.sqrt(d)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    for peer in peers:
        extra = {}
        if peer == "fa_tune":
            r, extra = args.fa_tune.timed(measure, timer, base, q, k, v, causal, scale)
        else:
            if peer == "torch_eager":
                if n > args.eager_max_seqlen:
                    continue
                fn = lambda: eager(q, k, v, bool(causal), scale)
            else:
                def fn(be=BACKENDS[peer]):
                    with sdpa_kernel(be):
                        return F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal),
                                                              scale=scale)
            r = measure(timer, peer, fn, base, q.numel() * q.element_size())
        row = dict(peer=peer, dtype=args.dtype, head_dim=d, causal=causal, varlen=0,
                   batch=b, heads_q=h, heads_kv=h, seqlen_q=n, seqlen_k=n,
                   layout="bhsd", versions=versions, **extra, **r)
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


def serve(args, timer, out, versions, peers, dt):
    """--serve: time the shapes named on standard input, one "HD CAUSAL N" line at a time, and
    answer each on standard output with "done HD CAUSAL N" once its rows are written (or "error
    ..." for a line that is not a shape), so that a driver can alternate fa-tune and the peers
    shape by shape with PyTorch loaded once (bench/gpu_run.sh's h2hs stage)."""
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        try:
            d, causal, n = int(f[0]), int(f[1]), int(f[2])
            if len(f) != 3 or causal not in (0, 1) or d <= 0 or n <= 0 or args.hidden % d:
                raise ValueError
        except (ValueError, IndexError):
            print(f"error: not a shape 'HD CAUSAL N' (head dim dividing --hidden): {line.strip()}",
                  flush=True)
            continue
        if args.dry_run:
            b, h = grid_dims(args, d, n)
            for peer in peers:
                out.write(json.dumps(dict(peer=peer, dtype=args.dtype, head_dim=d, causal=causal,
                                          batch=b, heads_q=h, seqlen_q=n,
                                          flops=flops(b, h, n, n, d, causal))) + "\n")
            out.flush()
        else:
            grid_shape(args, timer, out, versions, peers, d, causal, n, dt)
        print(f"done {d} {causal} {n}", flush=True)
    return 0


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
    ap.add_argument("--from-db", metavar="DB", help="the varlen and GQA problems of this fa-tune "
                    "database (see above); --headdims narrows them (default 64,128,256)")
    ap.add_argument("--dtypes", default="bf16", help="--from-db: dtypes, comma-separated "
                    "(default bf16)")
    ap.add_argument("--modes", default="varlen,gqa", help="--from-db: varlen, gqa or both "
                    "(default; a varlen GQA problem is in either)")
    ap.add_argument("--dry-run", action="store_true", help="--from-db: print the shapes and "
                    "FLOPs as JSON lines, time nothing (no PyTorch needed)")
    ap.add_argument("--serve", action="store_true", help="FlashAttention's grid shape by shape "
                    "as standard input names them ('HD CAUSAL N' lines, each answered 'done HD "
                    "CAUSAL N' on standard output once timed); with --dry-run, the rows' shapes "
                    "and FLOPs without PyTorch")
    ap.add_argument("--fa-tune-lib", metavar="SO", help="FlashAttention's grid or --decode: also "
                    "time fa-tune in this process (peer fa_tune) through a dispatch header's "
                    "launcher built into SO (bench/fa_header_peer.c; see bench/fa_tune_peer.py)")
    ap.add_argument("--stream", choices=("default", "side"), default="default",
                    help="the CUDA stream every timed call runs on: PyTorch's default stream (the "
                    "legacy NULL stream), or one side stream made here; the rows' versions "
                    "say which when it is side")
    ap.add_argument("--kv-layout", choices=("bhsd", "bshd"), default="bhsd",
                    help="--decode: the tensors' layout in memory: PyTorch's (batch, heads, "
                    "seqlen, dim), or FlashAttention's (batch, seqlen, heads, dim) passed to SDPA "
                    "as transposed views; the rows' layout says which")
    ap.add_argument("--kv-gap-kib", type=int, default=-1, metavar="N",
                    help="--decode: K and V in one allocation, V starting N KiB after K's end "
                    "(default -1: two allocations, wherever PyTorch's allocator puts them); "
                    "to see whether the caches' relative placement moves the times")
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args()
    args.fa_tune = None

    if args.dry_run and not (args.from_db or args.serve):
        ap.error("--dry-run needs --from-db or --serve")
    if args.serve and (args.decode or args.from_db):
        ap.error("--serve times FlashAttention's grid: not with --decode or --from-db")
    if args.fa_tune_lib and (args.from_db or args.dry_run):
        ap.error("--fa-tune-lib times FlashAttention's grid or the decode grid: not with "
                 "--from-db or --dry-run")
    if "fa_tune" in args.peers.split(",") and not args.fa_tune_lib:
        ap.error("peer fa_tune needs --fa-tune-lib (a dispatch header's launcher, "
                 "bench/fa_header_peer.c)")
    if not args.decode and (args.kv_layout != "bhsd" or args.kv_gap_kib != -1):
        ap.error("--kv-layout and --kv-gap-kib place decode caches: they need --decode")
    if args.kv_gap_kib < -1:
        ap.error("--kv-gap-kib: expected -1 (two allocations) or a gap of 0 KiB or more")
    if args.serve and args.output == "-":
        ap.error("--serve answers on standard output: write the rows with -o FILE")
    if args.serve and args.dry_run:
        with open(args.output, "w") as out:
            return serve(args, None, out, None, args.peers.split(","), None)
    if args.from_db:
        bad = set(args.modes.split(",")) - {"varlen", "gqa"}
        if bad:
            ap.error(f"unknown --modes {','.join(sorted(bad))}: use varlen, gqa or both")
        try:
            with open(args.from_db, "rb"):
                pass
            shapes = db_mode_problems(args.from_db, set(map(int, args.headdims.split(","))),
                                      set(args.dtypes.split(",")), set(args.modes.split(",")))
        except (OSError, sqlite3.Error) as e:
            print(f"peers.py: cannot read '{args.from_db}': {e}", file=sys.stderr)
            return 1
        if not shapes:
            print(f"peers.py: no varlen or GQA problems of head dim {args.headdims} and dtype "
                  f"{args.dtypes} in '{args.from_db}'", file=sys.stderr)
            return 1
        if args.dry_run:
            out = sys.stdout if args.output == "-" else open(args.output, "w")
            for sh in shapes:
                out.write(json.dumps(sh) + "\n")
            return 0
    load_torch()
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
    if args.stream == "side":
        # Every call, event, flush and spin from here on goes to this stream (fa_tune_peer.py
        # passes torch's current stream to the launcher): a non-default stream, where the legacy
        # NULL stream's implicit ordering cannot come into play.
        torch.cuda.set_stream(torch.cuda.Stream())
        versions += ", side stream"
    if args.fa_tune_lib:
        from fa_tune_peer import FaTunePeer  # beside this file
        try:
            args.fa_tune = FaTunePeer(torch, args.fa_tune_lib)
            args.fa_tune.kv_layout = args.kv_layout
        except OSError as e:
            print(f"peers.py: cannot load '{args.fa_tune_lib}': {e}", file=sys.stderr)
            return 1
    if args.decode:
        decode_grid(args, timer, out, versions)
        return 0
    if args.from_db:
        modes_grid(args, timer, out, versions)
        return 0
    g = gemm_ceiling(timer)
    g.update(versions=versions)
    out.write(json.dumps(g) + "\n")
    out.flush()
    print(f"gemm bf16 8192^3: {g['tflops']:.0f} TFLOP/s", file=sys.stderr)

    peers = args.peers.split(",")
    if args.fa_tune and "fa_tune" not in peers:
        peers.append("fa_tune")
    if args.serve:
        return serve(args, timer, out, versions, peers, dt)
    for d in map(int, args.headdims.split(",")):
        for causal in map(int, args.causal.split(",")):
            for n in map(int, args.seqlens.split(",")):
                grid_shape(args, timer, out, versions, peers, d, causal, n, dt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
