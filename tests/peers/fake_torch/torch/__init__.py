"""A CPU stand-in for the few PyTorch calls bench/peers.py makes, for peers.modes and
peers.decode: it runs peers.py's timing loops (--from-db, --decode) without a GPU so the glue
(shapes, fallbacks, rows written) is tested; the numbers it gives are made up (each call
"takes" time proportional to its work: SDPA at 400 TFLOP/s, a copy at 4 TB/s after 10 us). It
fakes one refusal the real SDPA can make: cuDNN refuses enable_gqa, so the expanded-K/V path
runs (peers.py --decode reports the backend as skipped). Never on a real run's path: only
tests put this folder on PYTHONPATH."""

__version__ = "0.0-fake"
bfloat16, float16, uint8, int16 = "bfloat16", "float16", "uint8", "int16"


class OutOfMemoryError(RuntimeError):
    pass


class Tensor:
    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def element_size(self):
        return 1 if self.dtype == uint8 else 2

    def fill_(self, x):
        return self

    def copy_(self, src):
        # read + write at 4 TB/s after a 10 us launch, in ms: small copies read slower
        _work(0.01 + 2.0 * src.numel() * src.element_size() / 4e9)
        return self

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
    return _alloc(shape, dtype)


def empty(n, dtype=uint8, device=None):
    return _alloc((n,), dtype)


def empty_like(t):
    return _alloc(t.shape, t.dtype)


class _Props:
    L2_cache_size = 50 << 20


class _Event:
    clock = 0.0

    def __init__(self, enable_timing=False):
        self.t = 0.0

    def record(self):
        self.t = _Event.clock

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return end.t - self.t


class cuda:
    allocated = 0
    Event = _Event

    @staticmethod
    def is_available():
        return True

    @staticmethod
    def synchronize():
        pass

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
    _Event.clock += ms
