"""What every compiled kernel family shares: numba's ``jit`` with on-disk
caching, a serial and a ``parallel=True`` build of each kernel (``pick``
chooses by size and follows ``tensorgrad.set_num_threads``) and a float32
``exp`` that LLVM vectorises (numba's own calls the scalar libm: 8x slower
than NumPy's SIMD exp on this machine)."""
import os
import types


def _openmp_loaded():
    """Whether an OpenMP runtime (libgomp) is already mapped into this process
    (PyTorch loads one at import): numba's OpenMP pool would then be that one,
    with its settings (Linux only; elsewhere False)."""
    try:
        with open('/proc/self/maps') as maps:
            return any('libgomp' in line for line in maps)
    except OSError:
        return False


def _quiet_runtime_requested():
    """The environment already asks every OpenMP runtime for sleeping idle threads."""
    return (os.environ.get('GOMP_SPINCOUNT', '').strip() == '0'
            or os.environ.get('OMP_WAIT_POLICY', '').strip().lower() == 'passive')


def _import_numba():
    """numba with its OpenMP pool started now, with GOMP_SPINCOUNT=0 unless the
    user set it: idle kernel threads then sleep at once instead of spinning for
    ~ms, which stole the cores of the BLAS threads of the next GEMM (measured:
    GEMM + softmax loop 1.7x slower with spinning). The variable is removed
    again, so a runtime loaded later (PyTorch's) does not see it.

    Returns (numba, whether the parallel builds may be used). Where an OpenMP
    runtime was loaded before (``import torch`` first), numba shares it and its
    idle threads spin: measured on 2 cores, a MultiheadAttention forward went
    from 0.4 ms to 7.5 ms (the spinning kernel thread and OpenBLAS's threads
    fight for the cores). There only the serial builds are used, unless the
    environment sets GOMP_SPINCOUNT=0 or OMP_WAIT_POLICY=passive."""
    foreign = _openmp_loaded() and not _quiet_runtime_requested()
    ours = 'GOMP_SPINCOUNT' not in os.environ
    if ours:
        os.environ['GOMP_SPINCOUNT'] = '0'
    try:
        import numba  # noqa: PLC0415
        if not foreign:
            from numba.np.ufunc import parallel  # noqa: PLC0415
            parallel._launch_threads()  # loads the threading layer (libgomp reads its settings now)
    finally:
        if ours:
            del os.environ['GOMP_SPINCOUNT']
    return numba, not foreign


numba, _PARALLEL_OK = _import_numba()
import numpy as np  # noqa: E402
from llvmlite import ir  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

from .. import _parallel  # noqa: E402

# fast-math without 'nnan' / 'ninf': sums may be reassociated (vectorised), NaN and inf keep their meaning
FASTMATH = {'reassoc', 'contract', 'arcp', 'nsz', 'afn'}
# elements: below this the serial build is faster than waking the (sleeping) threads. Measured on
# this 2-core machine, softmax 64-wide rows float32, serial vs parallel (us): 2^16: 45 vs 80,
# 2^18: 180 vs 171, 2^20: 704 vs 338 (a wake costs ~40-70 us). Heavier kernels pass a lower one.
PARALLEL_MIN = 1 << 18
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


KERNELS = []  # every Kernel built (the tests force their parallel builds through it)


class Kernel:
    """A kernel compiled twice from one Python function: ``serial`` and
    ``parallel`` (prange loops split over threads)."""
    __slots__ = ('serial', 'parallel', 'parallel_min')

    def __init__(self, fn, parallel_min=None):
        self.parallel_min = PARALLEL_MIN if parallel_min is None else parallel_min
        KERNELS.append(self)
        opts = dict(cache=True, fastmath=FASTMATH, nogil=True)
        self.serial = numba.njit(**opts)(fn)
        self.parallel = numba.njit(parallel=True, **opts)(_copy(fn, '_parallel'))

    def pick(self, size):
        """The build for an input of ``size`` elements, with numba's thread count
        set to tensorgrad's (``set_num_threads``); the serial one inside ``parallel_rows``."""
        n = _parallel._NTHREADS
        # _IN_POOL: called from work already split over tensorgrad's threads (no nested parallelism)
        if size < self.parallel_min or n < 2 or _forked[0] or not _PARALLEL_OK or _parallel._IN_POOL:
            return self.serial
        n = min(n, numba.config.NUMBA_NUM_THREADS)
        if numba.get_num_threads() != n:
            numba.set_num_threads(n)
        return self.parallel


def kernel(fn=None, *, parallel_min=None):
    """Decorator: ``fn`` as a ``Kernel`` (serial and parallel builds);
    ``@kernel(parallel_min=n)`` sets the size from which the parallel build runs
    (default ``PARALLEL_MIN``: measure before choosing another)."""
    if fn is None:
        return lambda f: Kernel(f, parallel_min)
    return Kernel(fn, parallel_min)


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
    exp(r) by Cephes' degree-6 polynomial, 2^k built in the exponent bits (as
    2^h * 2^(k-h), h = k // 2: 2^128 is not a float32 while exp(88.4..88.72) is).
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
    ki = np.int32(k)
    h = ki >> np.int32(1)
    y = p * _i32_as_f32((h + np.int32(127)) << np.int32(23)) * _i32_as_f32((ki - h + np.int32(127)) << np.int32(23))
    y = np.float32(0.0) if x < np.float32(-87.3) else y
    return np.float32(np.inf) if x > np.float32(88.7) else y


@intrinsic
def fdiv(typingctx, a, b):
    """``a / b`` as LLVM's fdiv (inf / NaN on a zero divisor, the kernels' fast-math
    flags): numba's ``/`` checks for zero and raises, a branch that keeps the loop
    from vectorising. Measured: tanh GELU forward, 65536 floats, 275 us with ``/``,
    30 us with this; 1 / (1 + exp32(x)) over 32 x 1024 floats, 91 vs 10 us."""
    def codegen(context, builder, signature, args):
        return builder.fdiv(args[0], args[1], flags=('arcp', 'contract'))
    return a(a, b), codegen


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorise the calling function with 512-bit registers where the
    CPU has them (its default on AVX-512 CPUs is 256). Call it inside the loop
    (a prange body is compiled as a function of its own); it emits no code.
    Measured on this machine (Xeon, AVX-512), exact GELU forward 65536 floats:
    54 us with ymm, 34 us with zmm. Without AVX-512 it changes nothing."""
    def codegen(context, builder, signature, args):
        attrs = builder.function.attributes
        # string attributes: llvmlite's AttributeSet.add only takes its known keywords
        set.add(attrs, '"prefer-vector-width"="512"')
        set.add(attrs, '"min-legal-vector-width"="512"')  # else the backend splits 512-bit vectors again
        return context.get_dummy_value()
    return numba.types.none(), codegen


@intrinsic
def opaque(typingctx, x):
    """``x`` unchanged, through an empty inline asm the optimiser cannot see into:
    fast-math cannot reassociate across it."""
    def codegen(context, builder, signature, args):
        t = args[0].type
        return builder.asm(ir.FunctionType(t, [t]), '', '=x,0', args, side_effect=False)
    return x(x), codegen


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
