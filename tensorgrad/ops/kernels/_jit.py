"""What every compiled kernel family shares: numba's ``jit`` with on-disk
caching, a serial and a ``parallel=True`` build of each kernel (``pick``
chooses by size and follows ``tensorgrad.set_num_threads``) and a float32
``exp`` that LLVM vectorises (numba's own calls the scalar libm: 8x slower
than NumPy's SIMD exp on this machine)."""
import os
import types


def _import_numba():
    """numba with its OpenMP pool started now, with GOMP_SPINCOUNT=0 unless the
    user set it: idle kernel threads then sleep at once instead of spinning for
    ~ms, which stole the cores of the BLAS threads of the next GEMM (measured:
    GEMM + softmax loop 1.7x slower with spinning). The variable is removed
    again, so a runtime loaded later (PyTorch's) does not see it."""
    ours = 'GOMP_SPINCOUNT' not in os.environ
    if ours:
        os.environ['GOMP_SPINCOUNT'] = '0'
    try:
        import numba  # noqa: PLC0415
        from numba.np.ufunc import parallel  # noqa: PLC0415
        parallel._launch_threads()  # loads the threading layer (libgomp reads its settings now)
    finally:
        if ours:
            del os.environ['GOMP_SPINCOUNT']
    return numba


numba = _import_numba()
import numpy as np  # noqa: E402
from llvmlite import ir  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

from .. import _parallel  # noqa: E402

# fast-math without 'nnan' / 'ninf': sums may be reassociated (vectorised), NaN and inf keep their meaning
FASTMATH = {'reassoc', 'contract', 'arcp', 'nsz', 'afn'}
PARALLEL_MIN = 1 << 16  # elements: below this the serial build is faster than waking the threads
_forked = [False]  # in a forked child the OpenMP pool of the parent is unusable: serial builds only


def _after_fork():
    _forked[0] = True


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_after_fork)


def _copy(fn, suffix):
    """``fn`` under another name, so that its two builds have separate cache files."""
    f = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__)
    f.__qualname__ = fn.__qualname__ + suffix
    f.__module__ = fn.__module__
    return f


class Kernel:
    """A kernel compiled twice from one Python function: ``serial`` and
    ``parallel`` (prange loops split over threads)."""
    __slots__ = ('serial', 'parallel')

    def __init__(self, fn):
        opts = dict(cache=True, fastmath=FASTMATH, nogil=True)
        self.serial = numba.njit(**opts)(fn)
        self.parallel = numba.njit(parallel=True, **opts)(_copy(fn, '_parallel'))

    def pick(self, size):
        """The build for an input of ``size`` elements, with numba's thread count
        set to tensorgrad's (``set_num_threads``)."""
        n = _parallel._NTHREADS
        if size < PARALLEL_MIN or n < 2 or _forked[0]:
            return self.serial
        n = min(n, numba.config.NUMBA_NUM_THREADS)
        if numba.get_num_threads() != n:
            numba.set_num_threads(n)
        return self.parallel


def kernel(fn):
    """Decorator: ``fn`` as a ``Kernel`` (serial and parallel builds)."""
    return Kernel(fn)


def helper(fn):
    """Decorator for the scalar helpers the kernels call (inlined)."""
    return numba.njit(cache=True, fastmath=FASTMATH, inline='always')(fn)


@intrinsic
def _i32_as_f32(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return numba.types.float32(numba.types.int32), codegen


_LOG2E = np.float32(1.4426950408889634)
_LN2_HI, _LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)


@helper
def exp32(x):
    """exp of a float32, within 3e-7 relative of the exact value: x = k ln2 + r,
    exp(r) by Cephes' degree-6 polynomial, 2^k built in the exponent bits.
    0 below -87.3 (where exp leaves the normal range), inf above 88.7, NaN stays NaN."""
    c = np.float32(-87.3) if x < np.float32(-87.3) else x  # NaN < a is False: NaN goes through
    c = np.float32(88.7) if c > np.float32(88.7) else c
    k = np.floor(c * _LOG2E + np.float32(0.5))
    r = c - k * _LN2_HI
    r = r - k * _LN2_LO
    p = np.float32(1.9875691500E-4)
    p = p * r + np.float32(1.3981999507E-3)
    p = p * r + np.float32(8.3334519073E-3)
    p = p * r + np.float32(4.1665795894E-2)
    p = p * r + np.float32(1.6666665459E-1)
    p = p * r + np.float32(5.0000001201E-1)
    p = p * r * r + r + np.float32(1.0)
    y = p * _i32_as_f32((np.int32(k) + np.int32(127)) << np.int32(23))
    y = np.float32(0.0) if x < np.float32(-87.3) else y
    return np.float32(np.inf) if x > np.float32(88.7) else y


@intrinsic
def fmax(typingctx, a, b):
    """LLVM's maxnum (the other operand when one is NaN): unlike Python's ``max``
    (a compare-and-select chain) a loop of it vectorises, ~8x faster."""
    def codegen(context, builder, signature, args):
        t = args[0].type
        name = 'llvm.maxnum.f32' if t == ir.FloatType() else 'llvm.maxnum.f64'
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(t, [t, t]), name)
        return builder.call(fn, args, fastmath=('nnan', 'nsz', 'reassoc'))
    return a(a, b), codegen


@helper
def rowmax(a):
    """max of a 1-D float array (-inf when empty). A NaN may or may not win: the
    softmax kernels turn a row with NaN into NaN whatever its max."""
    m = a.dtype.type(-np.inf)
    for j in range(a.shape[0]):
        m = fmax(m, a[j])
    return m


def is_f32(*arrays):
    """All NumPy float32 arrays (what the float32 kernels take)."""
    return all(a.__class__ is np.ndarray and a.dtype == np.float32 for a in arrays)


def is_float(*arrays):
    """All NumPy arrays of one dtype, float32 or float64."""
    dt = arrays[0].dtype
    return dt in (np.float32, np.float64) and all(a.__class__ is np.ndarray and a.dtype == dt for a in arrays)
