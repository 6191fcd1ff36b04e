"""A CPU stand-in for the few PyTorch calls bench/peers.py makes, for peers.modes, peers.decode
and bench.h2h_alternate: it runs peers.py's timing loops (--from-db, --decode, --serve) without a
GPU so the glue (shapes, fallbacks, rows written) is tested; the numbers it gives are made up
(each call "takes" time proportional to its work: SDPA at 400 TFLOP/s, a GEMM at 700, a copy at
4 TB/s after 10 us). It fakes one refusal the real SDPA can make: cuDNN refuses enable_gqa, so
the expanded-K/V path runs (peers.py --decode reports the backend as skipped). Never on a real
run's path: only tests put this folder on PYTHONPATH.

Two clocks, as on a GPU: the host pays HOST_CALL_MS to enqueue each call (and a little per
event), the GPU runs each call when both it and the host have got there. A timing loop whose
events bracket the host's cost as well as the GPU's measures less than the rates above."""
import sys

__version__ = "0.0-fake"
bfloat16, float16, float32, uint8, int16 = "bfloat16", "float16", "float32", "uint8", "int16"


class OutOfMemoryError(RuntimeError):
    pass


class Tensor:
    def __init__(self, shape, dtype, storage=None, offset=0):
        self.shape, self.dtype = tuple(shape), dtype
        # which allocation the elements live in and where (peers.py --kv-gap-kib)
        self.storage, self.offset = storage if storage is not None else object(), offset

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def element_size(self):
        return 1 if self.dtype == uint8 else 2

    def fill_(self, x):
        _work(self.numel() * self.element_size() / 3e9)  # 3 TB/s, in ms
        return self

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], str):  # a dtype: the same bytes reread
            n = self.numel() * self.element_size()
            return Tensor((n // (1 if shape[0] == uint8 else 2),), shape[0])
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        t = Tensor(shape, self.dtype, self.storage, self.offset)
        if t.numel() != self.numel():
            raise RuntimeError(f"view {shape} of {self.numel()} elements")
        return t

    def __getitem__(self, sl):  # a 1-D slice: a view at an offset of the same allocation
        if len(self.shape) != 1 or not isinstance(sl, slice) or sl.step not in (None, 1):
            raise TypeError("the fake slices 1-D tensors only")
        start, stop, _ = sl.indices(self.shape[0])
        return Tensor((max(stop - start, 0),), self.dtype, self.storage, self.offset + start)

    def sum(self, dtype=None):  # a read at 3 TB/s, in ms (peers.py's L2 flush)
        _work(self.numel() * self.element_size() / 3e9)
        return Tensor((), dtype)

    def copy_(self, src):
        # read + write at 4 TB/s after a 10 us launch, in ms: small copies read slower
        _work(0.01 + 2.0 * src.numel() * src.element_size() / 4e9)
        return self

    def transpose(self, a, b):  # a view: peers.py --kv-layout bshd hands SDPA these
        s = list(self.shape)
        s[a], s[b] = s[b], s[a]
        t = Tensor(s, self.dtype, self.storage, self.offset)
        t.transposed = not getattr(self, "transposed", False)
        return t

    def repeat_interleave(self, g, dim):
        s = list(self.shape)
        s[dim] *= g
        cuda.allocated += Tensor(s, self.dtype).numel() * 2
        return Tensor(s, self.dtype)


def _alloc(shape, dtype):
    t = Tensor(shape, dtype)
    cuda.allocated += t.numel() * t.element_size()
    return t


def randn(*shape, dtype=bfloat16, device=None):
    if len(shape) == 1 and isinstance(shape[0], tuple):  # randn((b, h, s, d)) as randn(b, h, s, d)
        shape = shape[0]
    return _alloc(shape, dtype)


def matmul(a, b):  # peers.py's GEMM ceiling: 700 TFLOP/s, in ms
    _work(2.0 * a.shape[0] * a.shape[1] * b.shape[1] / 700e9)
    return _alloc((a.shape[0], b.shape[1]), a.dtype)


def empty(n, dtype=uint8, device=None):
    return _alloc((n,), dtype)


def empty_like(t):
    return _alloc(t.shape, t.dtype)


class _Props:
    L2_cache_size = 50 << 20


HOST_CALL_MS = 0.05  # what a PyTorch call costs the host (Python, dispatch): 50 us
HOST_EVENT_MS = 0.002


class _Clock:
    host = 0.0  # ms
    gpu = 0.0  # ms: when the GPU finishes what it has been given


class _Event:
    def __init__(self, enable_timing=False):
        self.t = 0.0

    def record(self):
        _Clock.host += HOST_EVENT_MS
        self.t = _Clock.gpu = max(_Clock.gpu, _Clock.host)

    def synchronize(self):
        _Clock.host = max(_Clock.host, self.t)

    def elapsed_time(self, end):
        return end.t - self.t


class _Stream:
    def __init__(self, handle=None):
        _Stream.made += 1
        self.cuda_stream = _Stream.made if handle is None else handle

    made = 0


class cuda:
    allocated = 0
    saw_views = False  # SDPA was handed transposed views (fake functional.py)
    saw_shared = False  # SDPA was handed K and V from one allocation (fake functional.py)
    Event = _Event
    Stream = _Stream
    _current = None

    @staticmethod
    def current_stream():
        if cuda._current is None:
            cuda._current = _Stream(0)  # the legacy default stream
        return cuda._current

    @staticmethod
    def set_stream(stream):  # peers.py --stream side: said on stderr for its test to see
        cuda._current = stream
        print(f"fake torch: set_stream({stream.cuda_stream})", file=sys.stderr)

    @staticmethod
    def is_available():
        return True

    @staticmethod
    def synchronize():
        _Clock.host = max(_Clock.host, _Clock.gpu)

    @staticmethod
    def _sleep(cycles):  # a spin kernel at 1.5 GHz
        _work(cycles / 1.5e9 * 1e3)

    @staticmethod
    def memory_allocated():
        return cuda.allocated

    @staticmethod
    def max_memory_allocated():
        return cuda.allocated + cuda.extra

    extra = 0

    @staticmethod
    def reset_peak_memory_stats():
        cuda.extra = 0

    @staticmethod
    def empty_cache():
        pass

    @staticmethod
    def get_device_properties(i):
        return _Props()


class backends:
    class cudnn:
        @staticmethod
        def version():
            return 91900


def _work(ms):
    """One call: the host enqueues it, the GPU runs it after what it was given before."""
    _Clock.host += HOST_CALL_MS
    _Clock.gpu = max(_Clock.gpu, _Clock.host) + ms
