import contextlib
import enum

current = None


class SDPBackend(enum.Enum):
    FLASH_ATTENTION = "FLASH_ATTENTION"
    CUDNN_ATTENTION = "CUDNN_ATTENTION"
    EFFICIENT_ATTENTION = "EFFICIENT_ATTENTION"


@contextlib.contextmanager
def sdpa_kernel(backend):
    global current
    prev, current = current, backend.value
    try:
        yield
    finally:
        current = prev
