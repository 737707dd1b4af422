"""The fuzzer's op table: one line per op.

``Op(name, call, arity, params, dtypes, domain)``:

- ``call(lib, *tensors, *params)`` runs the op with ``lib`` being the
  ``tensorgrad`` or the ``torch`` module (``meth('exp')`` calls the Tensor
  method, ``fn('maximum')`` the top-level function, ``nnf('softmax')``
  ``lib.nn.functional``); the same call must be valid PyTorch.
- ``arity``: tensor operands. The first is an existing value of the program;
  the others are drawn by ``operand`` (see ``strategies.OPERANDS``):
  'bcast' (broadcastable with the first, or sometimes not), 'same' (same
  shape), 'mm' (matmul partner), 'scalar' (a Python number).
- ``params``: names of parameter strategies in ``strategies.PARAMS``
  (a dim, a keepdim flag, an index, a shape ...), drawn from the first
  operand's shape; some draws are deliberately invalid, and then both
  libraries must raise.
- ``dtypes``: which dtypes the first operand may have: 'float', 'num'
  (float and int), 'any' (float, int, bool).
- ``domain``: 'real', 'pos' (> 0; the program inserts ``x.abs() + 0.5``
  when a value is not), 'unit' (in (-1, 1); ``x.tanh() * 0.9``), 'prob'
  (in (0, 1); ``x.sigmoid()``).
- ``inplace``: the op modifies its first operand (views and non-leaves
  included; a leaf that requires grad must raise in both libraries).

Left out on purpose (documented tensorgrad differences, README "Autograd
semantics"): ``max(dim)``/``min(dim)`` (tensorgrad returns the values only;
``amax``/``amin``/``argmax`` are in), ``transpose(*dims)`` with one entry per
dim (the reference's permute form), ``tensor()``'s default
``requires_grad=True`` (the fuzzer always passes ``requires_grad``), and
``.to()``/``cpu()``/``cuda()`` (in place by default).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    """One fuzzable op: see the module docstring."""
    name: str
    call: object
    arity: int = 1
    params: tuple = ()
    dtypes: str = 'float'
    domain: str = 'real'
    operand: str = 'bcast'
    inplace: bool = False


def meth(name, *fixed, **kw):
    """``x.name(*others, *params, *fixed, **kw)`` on either library."""
    def call(lib, x, *rest):
        return getattr(x, name)(*rest, *fixed, **kw)
    call.__name__ = name
    return call


def fn(name, **kw):
    """``lib.name(*tensors, *params, **kw)``."""
    def call(lib, *args):
        return getattr(lib, name)(*args, **kw)
    call.__name__ = name
    return call


def nnf(name, **kw):
    """``lib.nn.functional.name(*tensors, *params, **kw)``."""
    def call(lib, *args):
        return getattr(lib.nn.functional, name)(*args, **kw)
    call.__name__ = name
    return call


def _getitem(lib, x, idx):
    return x[idx]


def _setitem(lib, x, value, idx):
    x[idx] = value
    return x


def _t(lib, x):
    return x.t()


def _dims_call(name):
    """``x.name(dim, keepdim=k)`` / ``x.name()`` when dim is None."""
    def call(lib, x, dim, keepdim):
        if dim is None:
            return getattr(x, name)()
        return getattr(x, name)(dim, keepdim=keepdim)
    call.__name__ = name
    return call


def _var(lib, x, dim, keepdim, correction):
    return x.var(dim, keepdim=keepdim, correction=correction)


def _cat(lib, x, y, dim):
    return lib.cat([x, y], dim)


def _stack(lib, x, y, dim):
    return lib.stack([x, y], dim)


def _where(lib, x, y):
    return lib.where(x > 0, x, y)


UNARY = [
    Op('neg', meth('neg'), dtypes='num'),
    Op('abs', meth('abs'), dtypes='num'),
    Op('exp', meth('exp'), dtypes='any'),
    Op('log', meth('log'), dtypes='any', domain='pos'),
    Op('sqrt', meth('sqrt'), dtypes='any', domain='pos'),
    Op('rsqrt', meth('rsqrt'), domain='pos'),
    Op('sin', meth('sin'), dtypes='any'),
    Op('cos', meth('cos'), dtypes='any'),
    Op('tanh', meth('tanh'), dtypes='any'),
    Op('sigmoid', meth('sigmoid'), dtypes='any'),
    Op('relu', meth('relu'), dtypes='num'),
    Op('square', meth('square'), dtypes='num'),
    Op('reciprocal', meth('reciprocal'), dtypes='any', domain='pos'),
    Op('asin', meth('asin'), domain='unit'),
    Op('atanh', meth('atanh'), domain='unit'),
    Op('expm1', meth('expm1')),
    Op('log1p', meth('log1p'), domain='pos'),
    Op('erf', meth('erf')),
    Op('sign', meth('sign'), dtypes='any'),
    Op('clamp', meth('clamp', min=-0.5, max=0.7), dtypes='num'),
    Op('clamp_min', meth('clamp_min', 0.1), dtypes='num'),
    Op('floor', meth('floor'), dtypes='num'),
    Op('ceil', meth('ceil'), dtypes='num'),
    Op('round', meth('round'), dtypes='num'),
    Op('trunc', meth('trunc'), dtypes='num'),
    Op('frac', meth('frac')),
    Op('isnan', meth('isnan'), dtypes='any'),
    Op('logit', meth('logit'), domain='prob'),
    Op('pow_scalar', meth('pow', 2), dtypes='num'),
    Op('pow_frac', meth('pow', 1.5), domain='pos'),
    Op('gelu', nnf('gelu')),
    Op('softplus', nnf('softplus')),
    Op('leaky_relu', nnf('leaky_relu', negative_slope=0.1)),
    Op('elu', nnf('elu')),
    Op('silu', nnf('silu')),
    Op('logical_not', meth('logical_not'), dtypes='any'),
    Op('clone', meth('clone'), dtypes='any'),
    Op('detach', meth('detach'), dtypes='any'),
    Op('float', meth('float'), dtypes='any'),
    Op('double', meth('double'), dtypes='any'),
    Op('long', meth('long'), dtypes='any'),
]

BINARY = [
    Op('add', fn('add'), 2, dtypes='any'),
    Op('sub', fn('sub'), 2, dtypes='num'),
    Op('mul', fn('mul'), 2, dtypes='any'),
    Op('div', fn('div'), 2, dtypes='num'),
    Op('op_add', lambda lib, x, y: x + y, 2, dtypes='any'),
    Op('op_rsub_scalar', lambda lib, x, s: s - x, 2, dtypes='num', operand='scalar'),
    Op('op_mul_scalar', lambda lib, x, s: x * s, 2, dtypes='any', operand='scalar'),
    Op('op_div_scalar', lambda lib, x, s: x / s, 2, dtypes='num', operand='scalar'),
    Op('op_rdiv_scalar', lambda lib, x, s: s / x, 2, dtypes='float', operand='scalar', domain='pos'),
    Op('op_pow_tensor', lambda lib, x, y: x ** y, 2, domain='pos'),
    Op('maximum', fn('maximum'), 2, dtypes='num'),
    Op('minimum', fn('minimum'), 2, dtypes='num'),
    Op('atan2', fn('atan2'), 2),
    Op('hypot', fn('hypot'), 2),
    Op('lerp', lambda lib, x, y: lib.lerp(x, y, 0.3), 2, operand='same'),
    Op('where', _where, 2, dtypes='num'),
    Op('gt', fn('gt'), 2, dtypes='num'),
    Op('eq', fn('eq'), 2, dtypes='any'),
    Op('logical_and', fn('logical_and'), 2, dtypes='any'),
    Op('matmul', fn('matmul'), 2, dtypes='num', operand='mm'),
    Op('cat', _cat, 2, ('cat_dim',), dtypes='any', operand='same'),
    Op('stack', _stack, 2, ('stack_dim',), dtypes='any', operand='same'),
]

REDUCTIONS = [
    Op('sum', _dims_call('sum'), 1, ('dims', 'keepdim'), dtypes='any'),
    Op('mean', _dims_call('mean'), 1, ('dims', 'keepdim')),
    Op('prod', _dims_call('prod'), 1, ('dim_or_none', 'keepdim'), dtypes='num'),
    Op('amax', _dims_call('amax'), 1, ('dims', 'keepdim'), dtypes='num'),
    Op('amin', _dims_call('amin'), 1, ('dims', 'keepdim'), dtypes='num'),
    Op('argmax', _dims_call('argmax'), 1, ('dim_or_none', 'keepdim'), dtypes='num'),
    Op('logsumexp', lambda lib, x, d, k: x.logsumexp(d, keepdim=k), 1, ('dims_req', 'keepdim')),
    Op('var', _var, 1, ('dims', 'keepdim', 'correction')),
    Op('std', lambda lib, x, d, k, c: x.std(d, keepdim=k, correction=c), 1, ('dims', 'keepdim', 'correction')),
    Op('norm', lambda lib, x: lib.norm(x), 1),
    Op('all', _dims_call('all'), 1, ('dim_or_none', 'keepdim'), dtypes='any'),
    Op('any', _dims_call('any'), 1, ('dim_or_none', 'keepdim'), dtypes='any'),
    Op('cumsum', lambda lib, x, d: x.cumsum(d), 1, ('dim',), dtypes='num'),
    Op('cumprod', lambda lib, x, d: x.cumprod(d), 1, ('dim',), dtypes='num'),
    Op('softmax', lambda lib, x, d: x.softmax(d), 1, ('dim',)),
    Op('log_softmax', lambda lib, x, d: x.log_softmax(d), 1, ('dim',)),
]

SHAPE = [
    Op('reshape', lambda lib, x, s: x.reshape(s), 1, ('reshape',), dtypes='any'),
    Op('view', lambda lib, x, s: x.view(s), 1, ('reshape',), dtypes='any'),
    Op('permute', lambda lib, x, p: x.permute(p), 1, ('perm',), dtypes='any'),
    Op('transpose', lambda lib, x, a, b: x.transpose(a, b), 1, ('dim', 'dim'), dtypes='any'),
    Op('t', _t, 1, dtypes='any'),
    Op('unsqueeze', lambda lib, x, d: x.unsqueeze(d), 1, ('insert_dim',), dtypes='any'),
    Op('squeeze', lambda lib, x, d: x.squeeze(d), 1, ('dim',), dtypes='any'),
    Op('squeeze_all', meth('squeeze'), 1, dtypes='any'),
    Op('flatten', meth('flatten'), 1, dtypes='any'),
    Op('expand', lambda lib, x, s: x.expand(s), 1, ('expand',), dtypes='any'),
    Op('flip', lambda lib, x, d: x.flip(d), 1, ('dim',), dtypes='any'),
    Op('narrow', lambda lib, x, d, s: x.narrow(d, s, 1), 1, ('dim', 'small_int'), dtypes='any'),
    Op('contiguous', meth('contiguous'), 1, dtypes='any'),
    Op('getitem', _getitem, 1, ('index',), dtypes='any'),
    Op('gather', lambda lib, x, d, i: x.gather(d, i), 1, ('dim', 'gather_index')),
    Op('tril', meth('tril'), 1, dtypes='num'),
    Op('roll', lambda lib, x, d: x.roll(1, d), 1, ('dim',), dtypes='any'),
]

INPLACE = [
    Op('add_', lambda lib, x, y: x.add_(y), 2, dtypes='num', inplace=True),
    Op('mul_', lambda lib, x, y: x.mul_(y), 2, dtypes='num', inplace=True),
    Op('mul_scalar_', lambda lib, x, s: x.mul_(s), 2, dtypes='num', operand='scalar', inplace=True),
    Op('sub_', lambda lib, x, y: x.sub_(y), 2, dtypes='num', inplace=True),
    Op('div_', lambda lib, x, y: x.div_(y), 2, dtypes='num', domain='pos', inplace=True),
    Op('clamp_', lambda lib, x: x.clamp_(-0.3, 0.4), 1, dtypes='num', inplace=True),
    Op('exp_', lambda lib, x: x.exp_(), 1, inplace=True),
    Op('zero_', lambda lib, x: x.zero_(), 1, dtypes='any', inplace=True),
    Op('fill_', lambda lib, x: x.fill_(0.25), 1, dtypes='num', inplace=True),
    Op('setitem', _setitem, 2, ('index',), dtypes='num', operand='scalar', inplace=True),
]

OPS = UNARY + BINARY + REDUCTIONS + SHAPE + INPLACE
BY_NAME = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), 'duplicate op names'
