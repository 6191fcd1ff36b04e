"""fa-tune as a peer inside bench/peers.py's process (`--fa-tune-lib`): its attention (the
forward op on FlashAttention's grid, the decode op with --decode) through an
emitted dispatch header's Driver API launcher (bench/fa_header_peer.c, built into a shared
library), timed by the same timer as SDPA's backends, on the same tensors, in the same GPU
process. Why: a kernel keeps one speed within a process, but may run up to 12% faster or
slower in the next one (bench/results/2026-12-06_session20); timed in one process, fa-tune's
ratio to cuDNN is the kernels' ratio.

Each shape's fa-tune call is checked after it is timed: O poisoned with NaN before the first
launch must come back finite everywhere, and O of batch 0, head 0 must meet FlashAttention's
criterion against an fp32 reference, max|O - O_ref32| <= 2 x max|O_eager - O_ref32| + 1e-5
(eager: the same attention in the input dtype)."""
import ctypes


class FaTunePeer:
    def __init__(self, torch, lib_path):
        self.torch = torch
        self.lib = ctypes.CDLL(lib_path)
        self.lib.fa_peer_run.argtypes = [ctypes.c_uint64] * 5 + [ctypes.c_int] * 8 + [
            ctypes.c_float, ctypes.c_uint64]
        self.lib.fa_peer_run.restype = ctypes.c_int
        self.lib.fa_peer_lookup.argtypes = [ctypes.c_int] * 8 + [ctypes.c_char_p, ctypes.c_int]
        self.lib.fa_peer_lookup.restype = ctypes.c_int
        self.lib.fa_peer_decode_lookup.argtypes = self.lib.fa_peer_lookup.argtypes
        self.lib.fa_peer_decode_lookup.restype = ctypes.c_int
        self.lib.fa_peer_decode_scratch.argtypes = [ctypes.c_int] * 8
        self.lib.fa_peer_decode_scratch.restype = ctypes.c_uint64
        self.lib.fa_peer_run_decode.argtypes = self.lib.fa_peer_run.argtypes[:-1] + [
            ctypes.c_uint64] * 3
        self.lib.fa_peer_run_decode.restype = ctypes.c_int
        self.lib.fa_peer_run_decode_bshd.argtypes = self.lib.fa_peer_run_decode.argtypes
        self.lib.fa_peer_run_decode_bshd.restype = ctypes.c_int
        self.kv_layout = "bhsd"  # decode: peers.py --kv-layout sets it (bshd: transposed views)
        major, minor = torch.cuda.get_device_capability(0)
        self.cc = 10 * major + minor

    def variant(self, q, k, causal, op="fwd"):
        """The variant the header's lookup picks for this problem (None if it has none)."""
        b, hq, nq, d = q.shape
        hkv, nk = k.shape[1], k.shape[2]
        buf = ctypes.create_string_buffer(256)
        lookup = self.lib.fa_peer_decode_lookup if op == "decode" else self.lib.fa_peer_lookup
        lookup(self.cc, int(q.dtype == self.torch.bfloat16), d, int(causal), hq, hkv, nq, nk,
               buf, len(buf))
        return buf.value.decode() or None

    def call(self, q, k, v, causal, scale):
        """(fn, o): fn launches once into o (NaN until the first launch) and an fp32 LSE, both
        allocated here, once, so that the timer times the kernel alone."""
        torch = self.torch
        b, hq, nq, d = q.shape
        hkv, nk = k.shape[1], k.shape[2]
        o = torch.full_like(q, float("nan"))
        lse = torch.empty(b, hq, nq, dtype=torch.float32, device="cuda")
        args = (q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), lse.data_ptr(),
                int(q.dtype == torch.bfloat16), b, hq, hkv, nq, nk, d, int(causal), scale,
                torch.cuda.current_stream().cuda_stream)

        def fn():
            rc = self.lib.fa_peer_run(*args)
            if rc:
                raise RuntimeError(f"fa-tune's header launcher returned CUDA error {rc}")
            return o

        return fn, o

    def decode_call(self, q, k, v, scale):
        """As call, for the decode op (non-causal, every cache at its full length): the
        scratch the launcher asks for is allocated and zeroed here, once, as it requires."""
        torch = self.torch
        b, hq, nq, d = q.shape
        hkv, nk = k.shape[1], k.shape[2]
        bf16 = int(q.dtype == torch.bfloat16)
        bshd = self.kv_layout == "bshd"
        # the launcher is told a layout, not strides: refuse tensors that are not in it
        want = (nk * hkv * d, d, hkv * d, 1) if bshd else (hkv * nk * d, nk * d, d, 1)
        if tuple(k.stride()) != want or tuple(v.stride()) != want:
            raise RuntimeError(f"decode K/V strides {tuple(k.stride())}, not {self.kv_layout}'s "
                               f"{want}")
        if bshd:  # O in q's layout: FlashAttention's in memory, seen as (b, hq, nq, d)
            o = torch.full((b, nq, hq, d), float("nan"), dtype=q.dtype,
                           device="cuda").transpose(1, 2)
        else:
            o = torch.full_like(q, float("nan"))
        lse = torch.empty(b, hq, nq, dtype=torch.float32, device="cuda")
        nbytes = self.lib.fa_peer_decode_scratch(bf16, b, hq, hkv, nq, nk, d, 0)
        scratch = torch.zeros(max(nbytes, 1), dtype=torch.uint8, device="cuda")
        args = (q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), lse.data_ptr(), bf16, b,
                hq, hkv, nq, nk, d, 0, scale, scratch.data_ptr(), nbytes,
                torch.cuda.current_stream().cuda_stream)

        run = self.lib.fa_peer_run_decode_bshd if bshd else self.lib.fa_peer_run_decode

        def fn():
            rc = run(*args)
            if rc:
                raise RuntimeError(f"fa-tune's header decode launcher returned CUDA error {rc}")
            return o, scratch

        return fn, o

    def timed(self, measure, timer, base, q, k, v, causal, scale, op="fwd"):
        """peers.py's measure() of this problem's launch (op "fwd", or "decode": non-causal),
        then the check if it was timed: (measure's result, the row's variant and check)."""
        extra = {"variant": self.variant(q, k, causal, op)}
        fn, o = (self.decode_call(q, k, v, scale) if op == "decode"
                 else self.call(q, k, v, causal, scale))
        r = measure(timer, "fa_tune", fn, base, q.numel() * q.element_size())
        if "median_ms" in r:
            extra["check"] = self.check(q, k, v, o, causal, scale)
        return r, extra

    def check(self, q, k, v, o, causal, scale):
        """FlashAttention's criterion on batch 0, head 0, and every element of O written."""
        torch = self.torch
        torch.cuda.synchronize()
        q0, k0, v0 = q[0, 0], k[0, 0], v[0, 0]  # K/V head 0 serves query head 0
        nq, nk = q0.shape[0], k0.shape[0]

        def attend(qq, kk, vv):
            s = torch.matmul(qq, kk.transpose(0, 1)) * scale
            if causal:  # bottom-right, as fa-tune's
                mask = torch.ones(nq, nk, dtype=torch.bool, device=s.device).tril(nk - nq)
                s = s.masked_fill(~mask, float("-inf"))
            return torch.matmul(torch.softmax(s, dim=-1), vv)

        ref = attend(q0.float(), k0.float(), v0.float())
        err = (o[0, 0].float() - ref).abs().max().item()
        err_eager = (attend(q0, k0, v0).float() - ref).abs().max().item()
        unwritten = int(torch.isnan(o).sum().item())
        ok = err <= 2 * err_eager + 1e-5 and unwritten == 0
        return dict(ok=ok, max_abs_err=err, eager_max_abs_err=err_eager, nan_or_unwritten=unwritten)
