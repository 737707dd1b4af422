"""ONNX emitters: one function per traced op, ``emit(graph, out, args, name)``.

Each appends the ONNX nodes computing ``out`` from the ONNX names of its
inputs and binds ``out`` to the last one. Attributes come from the call's
bound arguments; static shapes come from the traced tensors. Reshapes keep a
leading dimension that is unchanged as ``0`` (ONNX: copy it from the input),
so a dynamic batch axis survives them.
"""
import math

import numpy as np

from .._tensor import Tensor
from ._graph import UnsupportedOperatorError


def _pair(v, n):
    return list(v) if isinstance(v, (tuple, list)) else [int(v)] * n


def _dtype(t):
    return t._data.dtype


def _scalar_like(g, value, like):
    return g.const(np.asarray(value, dtype=_dtype(like) if isinstance(like, Tensor) else None))


def _operand(g, v, like, what):
    if isinstance(v, Tensor):
        return g.name(v, what)
    return _scalar_like(g, v, like)


def _ints(g, values):
    return g.const(np.asarray(list(values), dtype=np.int64))


def _axes_attr_or_input(g, op, inputs, axes, **attrs):
    """Reduce/Squeeze-style ops: axes as an attribute (old opsets) or an input (new ones)."""
    new = {'ReduceMean': 18, 'ReduceSum': 13, 'ReduceMax': 18, 'Squeeze': 13, 'Unsqueeze': 13}[op]
    if axes is None:
        return g.node(op, inputs, **attrs)
    if g.opset >= new:
        return g.node(op, list(inputs) + [_ints(g, axes)], **attrs)
    return g.node(op, inputs, axes=list(axes), **attrs)


def _bind(g, out, name):
    if isinstance(out, Tensor):
        g.bind(out, name)
    return out


# ---------------------------------------------------------------------------- layers
def linear(g, out, a, _):
    x, w, b = a['x'], a['weight'], a['bias']
    xn = g.name(x, 'linear')
    if x.ndim == 2:
        inputs = [xn, g.name(w, 'linear')] + ([g.name(b, 'linear')] if b is not None else [])
        return _bind(g, out, g.node('Gemm', inputs, transB=1))
    y = g.node('MatMul', [xn, g.node('Transpose', [g.name(w, 'linear')], perm=[1, 0])])
    if b is not None:
        y = g.node('Add', [y, g.name(b, 'linear')])
    _bind(g, out, y)


def conv(g, out, a, name):
    x, w, b = a['input'], a['weight'], a['bias']
    n = x.ndim - 2
    k = list(w.shape[2:])
    stride, dilation = _pair(a['stride'], n), _pair(a['dilation'], n)
    pad = a['padding']
    if pad == 'valid':
        pads = [0] * (2 * n)
    elif pad == 'same':
        total = [d * (kk - 1) for d, kk in zip(dilation, k)]
        pads = [t // 2 for t in total] + [t - t // 2 for t in total]
    else:
        p = _pair(pad, n)
        pads = p + p
    inputs = [g.name(x, name), g.name(w, name)] + ([g.name(b, name)] if b is not None else [])
    _bind(g, out, g.node('Conv', inputs, kernel_shape=k, strides=stride, dilations=dilation, pads=pads,
                         group=int(a['groups'])))


def pad(g, out, a, _):
    x, p = a['x'], a['pad']
    if p is None:
        raise UnsupportedOperatorError("onnx.export: pad: only the PyTorch form pad(x, pad, mode, value) exports")
    p = list(p)
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for i in range(len(p) // 2):
        begins[x.ndim - 1 - i], ends[x.ndim - 1 - i] = p[2 * i], p[2 * i + 1]
    mode = {'constant': 'constant', 'reflect': 'reflect', 'replicate': 'edge'}.get(a['mode'])
    if mode is None:
        raise UnsupportedOperatorError(f"onnx.export: pad mode {a['mode']!r} has no ONNX mapping here")
    inputs = [g.name(x, 'pad'), _ints(g, begins + ends)]
    if mode == 'constant':
        inputs.append(_scalar_like(g, a['value'] or 0.0, x))
    _bind(g, out, g.node('Pad', inputs, mode=mode))


def _pool_args(a, n):
    k = _pair(a['kernel_size'], n)
    stride = _pair(a['stride'], n) if a['stride'] not in (None, (), []) else k
    p = _pair(a['padding'], n)
    return k, stride, p + p


def max_pool(g, out, a, name):
    x = a['input']
    n = x.ndim - 2
    if a.get('return_indices'):
        raise UnsupportedOperatorError(f"onnx.export: {name}(return_indices=True) does not export")
    k, stride, pads = _pool_args(a, n)
    _bind(g, out, g.node('MaxPool', [g.name(x, name)], kernel_shape=k, strides=stride, pads=pads,
                         dilations=_pair(a['dilation'], n), ceil_mode=int(bool(a['ceil_mode']))))


def avg_pool(g, out, a, name):
    x = a['input']
    n = x.ndim - 2
    if a.get('divisor_override') is not None:
        raise UnsupportedOperatorError(f"onnx.export: {name}(divisor_override=...) does not export")
    k, stride, pads = _pool_args(a, n)
    _bind(g, out, g.node('AveragePool', [g.name(x, name)], kernel_shape=k, strides=stride, pads=pads,
                         ceil_mode=int(bool(a['ceil_mode'])), count_include_pad=int(bool(a['count_include_pad']))))


def adaptive_avg_pool(g, out, a, name):
    x = a['input']
    n = x.ndim - 2
    size = _pair(a['output_size'], n)
    size = [x.shape[2 + i] if s is None else s for i, s in enumerate(size)]
    if all(s == 1 for s in size):
        return _bind(g, out, g.node('GlobalAveragePool', [g.name(x, name)]))
    ins = list(x.shape[2:])
    if any(i % s for i, s in zip(ins, size)):
        raise UnsupportedOperatorError(f"onnx.export: {name} from {tuple(ins)} to {tuple(size)} (not a divisor) "
                                       f"has no ONNX mapping")
    k = [i // s for i, s in zip(ins, size)]
    _bind(g, out, g.node('AveragePool', [g.name(x, name)], kernel_shape=k, strides=k))


def batch_norm(g, out, a, _):
    x = a['x']
    if a['training'] or a['running_mean'] is None:
        raise UnsupportedOperatorError("onnx.export: batch_norm in training mode (or without running statistics) "
                                       "does not export: call model.eval() first")
    c = x.shape[1]
    w = a['weight'] if a['weight'] is not None else np.ones(c, _dtype(x))
    b = a['bias'] if a['bias'] is not None else np.zeros(c, _dtype(x))
    ins = [g.name(x, 'batch_norm'), _operand(g, w, x, 'batch_norm'), _operand(g, b, x, 'batch_norm'),
           g.name(a['running_mean'], 'batch_norm'), g.name(a['running_var'], 'batch_norm')]
    y = ins[0]
    if x.ndim == 2:  # ONNX wants N x C x D...; a (N, C) input gets a trailing axis for the op
        y = _axes_attr_or_input(g, 'Unsqueeze', [y], [2])
    y = g.node('BatchNormalization', [y] + ins[1:], epsilon=float(a['eps']))
    if x.ndim == 2:
        y = _axes_attr_or_input(g, 'Squeeze', [y], [2])
    _bind(g, out, y)


def layer_norm(g, out, a, _):
    x = a['x']
    shape = a['normalized_shape']
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if g.opset < 17:
        raise UnsupportedOperatorError("onnx.export: layer_norm needs opset_version >= 17 (LayerNormalization)")
    w = a['weight'] if a['weight'] is not None else np.ones(shape, _dtype(x))
    ins = [g.name(x, 'layer_norm'), _operand(g, w, x, 'layer_norm')]
    if a['bias'] is not None:
        ins.append(g.name(a['bias'], 'layer_norm'))
    _bind(g, out, g.node('LayerNormalization', ins, axis=-len(shape), epsilon=float(a['eps'])))


def embedding(g, out, a, _):
    ids = a['indices']
    idn = g.name(ids, 'embedding')
    if ids._data.dtype != np.int64:
        idn = g.node('Cast', [idn], to=7)  # INT64
    _bind(g, out, g.node('Gather', [g.name(a['weight'], 'embedding'), idn], axis=0))


# ---------------------------------------------------------------------------- activations
def _unary(op, key='input', **attrs):
    def emit(g, out, a, name):
        _bind(g, out, g.node(op, [g.name(a[key], name)], **attrs))
    return emit


def gelu(g, out, a, _):
    x = a['x']
    xn = g.name(x, 'gelu')
    if a['approximate'] == 'tanh':
        inner = g.node('Mul', [g.node('Add', [xn, g.node('Mul', [_scalar_like(g, 0.044715, x),
                                                                   g.node('Pow', [xn, _scalar_like(g, 3.0, x)])])]),
                               _scalar_like(g, math.sqrt(2 / math.pi), x)])
        half = g.node('Add', [_scalar_like(g, 1.0, x), g.node('Tanh', [inner])])
    else:
        half = g.node('Add', [_scalar_like(g, 1.0, x),
                              g.node('Erf', [g.node('Div', [xn, _scalar_like(g, math.sqrt(2.0), x)])])])
    _bind(g, out, g.node('Mul', [g.node('Mul', [xn, half]), _scalar_like(g, 0.5, x)]))


def silu(g, out, a, _):
    xn = g.name(a['input'], 'silu')
    _bind(g, out, g.node('Mul', [xn, g.node('Sigmoid', [xn])]))


def leaky_relu(g, out, a, _):
    _bind(g, out, g.node('LeakyRelu', [g.name(a['input'], 'leaky_relu')], alpha=float(a['negative_slope'])))


def elu(g, out, a, _):
    _bind(g, out, g.node('Elu', [g.name(a['input'], 'elu')], alpha=float(a['alpha'])))


def hardtanh(g, out, a, name):
    x = a['input']
    lo, hi = (0.0, 6.0) if name == 'relu6' else (a['min_val'], a['max_val'])
    _bind(g, out, g.node('Clip', [g.name(x, name), _scalar_like(g, lo, x), _scalar_like(g, hi, x)]))


def softmax(g, out, a, name):
    if a.get('dtype') is not None:
        raise UnsupportedOperatorError(f"onnx.export: {name}(dtype=...) does not export")
    op = 'LogSoftmax' if name == 'log_softmax' else 'Softmax'
    _bind(g, out, g.node(op, [g.name(a['x'], name)], axis=int(a['dim'])))


def dropout(g, out, a, _):
    if a['training'] and a['p'] > 0:
        raise UnsupportedOperatorError("onnx.export: dropout in training mode does not export: call model.eval()")
    _bind(g, out, g.node('Identity', [g.name(a['input'], 'dropout')]))


# ---------------------------------------------------------------------------- tensor methods / operators
def binary(op, reverse=False):
    def emit(g, out, a, name):
        x, y = list(a.values())[:2]
        like = x if isinstance(x, Tensor) else y
        xn, yn = _operand(g, x, like, name), _operand(g, y, like, name)
        _bind(g, out, g.node(op, [yn, xn] if reverse else [xn, yn]))
    return emit


def power(g, out, a, _):
    x, v = a['input'], a['value']
    _bind(g, out, g.node('Pow', [g.name(x, 'pow'), _operand(g, v, x, 'pow')]))


def neg(g, out, a, _):
    _bind(g, out, g.node('Neg', [g.name(a['x'] if 'x' in a else a['input'], 'neg')]))


def matmul(g, out, a, name):
    x, y = list(a.values())[:2]
    if name == '__rmatmul__':
        x, y = y, x
    _bind(g, out, g.node('MatMul', [g.name(x, name), g.name(y, name)]))


def _reshape_target(in_shape, out_shape):
    target = list(out_shape)
    for i, (p, q) in enumerate(zip(in_shape, out_shape)):
        if p != q or p == 0:
            break
        target[i] = 0
    return target


def reshape(g, out, a, name):
    x = a['x']
    _bind(g, out, g.node('Reshape', [g.name(x, name), _ints(g, _reshape_target(x.shape, out.shape))]))


def flatten(g, out, a, name):
    x = a['x']
    start = a['start_dim'] % max(x.ndim, 1)
    end = a['end_dim'] % max(x.ndim, 1)
    if x.ndim > 1 and end == x.ndim - 1 and start == 1:
        return _bind(g, out, g.node('Flatten', [g.name(x, name)], axis=1))
    reshape(g, out, {'x': x}, name)


def permute(g, out, a, name):
    x = a['x']
    dims = a['dims']
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    if name == 'transpose' or name == 't':
        perm = list(range(x.ndim))
        if name == 't' or not dims:
            perm = perm[::-1]
        else:
            i, j = (d % x.ndim for d in dims)
            perm[i], perm[j] = perm[j], perm[i]
    else:
        perm = [d % x.ndim for d in dims]
    _bind(g, out, g.node('Transpose', [g.name(x, name)], perm=perm))


def unsqueeze(g, out, a, name):
    x = a['x']
    d = a['dim'] % (x.ndim + 1)
    _bind(g, out, _axes_attr_or_input(g, 'Unsqueeze', [g.name(x, name)], [d]))


def squeeze(g, out, a, name):
    x = a['x']
    d = a['dim']
    dims = None if d is None else [dd % x.ndim for dd in ((d,) if isinstance(d, int) else d)
                                   if x.shape[dd % x.ndim] == 1]
    if dims == []:
        return _bind(g, out, g.node('Identity', [g.name(x, name)]))
    _bind(g, out, _axes_attr_or_input(g, 'Squeeze', [g.name(x, name)], dims))


def identity(g, out, a, name):
    x = next(v for v in a.values() if isinstance(v, Tensor))
    if out is not x:
        _bind(g, out, g.node('Identity', [g.name(x, name)]))


def reduce(op):
    def emit(g, out, a, name):
        x = a['x']
        if a.get('dtype') is not None:
            raise UnsupportedOperatorError(f"onnx.export: {name}(dtype=...) does not export")
        d = a['dim']
        axes = None if d is None else [dd % x.ndim for dd in ((d,) if isinstance(d, int) else d)]
        if axes is None:
            axes = list(range(x.ndim))
        _bind(g, out, _axes_attr_or_input(g, op, [g.name(x, name)], axes, keepdims=int(bool(a['keepdim']))))
    return emit


def unary_method(op):
    def emit(g, out, a, name):
        _bind(g, out, g.node(op, [g.name(next(v for v in a.values() if isinstance(v, Tensor)), name)]))
    return emit


def getitem(g, out, a, _):
    x, idx = a['x'], a['slice_']
    idx = idx if isinstance(idx, tuple) else (idx,)
    if any(i is Ellipsis for i in idx):
        at = idx.index(Ellipsis)
        idx = idx[:at] + (slice(None),) * (x.ndim - len(idx) + 1) + idx[at + 1:]
    starts, ends, axes, steps, drop = [], [], [], [], []
    for axis, i in enumerate(idx):
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer, slice)):
            raise UnsupportedOperatorError(f"onnx.export: indexing with {type(i).__name__} has no ONNX mapping "
                                           f"(ints and slices export)")
        if isinstance(i, slice):
            if i == slice(None):
                continue
            start, stop, step = i.indices(x.shape[axis])
            if step <= 0:
                raise UnsupportedOperatorError("onnx.export: slices with a non-positive step do not export")
            starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
        else:
            k = int(i) % x.shape[axis]
            starts.append(k), ends.append(k + 1), axes.append(axis), steps.append(1), drop.append(axis)
    y = g.name(x, 'getitem')
    if axes:
        y = g.node('Slice', [y, _ints(g, starts), _ints(g, ends), _ints(g, axes), _ints(g, steps)])
    if drop:
        y = _axes_attr_or_input(g, 'Squeeze', [y], drop)
    elif not axes:
        y = g.node('Identity', [y])
    _bind(g, out, y)


def cat(g, out, a, name):
    tensors = a['tensors']
    like = next(t for t in tensors if isinstance(t, Tensor))
    _bind(g, out, g.node('Concat', [g.name(t, name) for t in tensors], axis=int(a['dim']) % like.ndim))


# ---------------------------------------------------------------------------- attention
def _attention(g, q, k, v, scale, mask, like):
    """softmax(q @ k^T * scale + mask) @ v on ONNX names of (..., L, D) / (..., S, D) tensors."""
    rank = like.ndim
    perm = list(range(rank))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    scores = g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [k], perm=perm)]), _scalar_like(g, scale, like)])
    if mask is not None:
        scores = g.node('Add', [scores, mask])
    return g.node('MatMul', [g.node('Softmax', [scores], axis=-1), v])


def _additive_mask(g, mask, like, L, S, is_causal):
    dt = _dtype(like)
    if mask is None and not is_causal:
        return None
    if mask is not None:
        if isinstance(mask, Tensor) and g.is_traced(mask):
            raise UnsupportedOperatorError("onnx.export: attention masks that depend on the inputs do not export")
        m = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
        return g.const(np.where(m, dt.type(-np.inf), dt.type(0)) if m.dtype == np.bool_ else m.astype(dt))
    return g.const(np.triu(np.full((L, S), -np.inf, dt), 1))


def sdpa(g, out, a, _):
    q, k, v = a['query'], a['key'], a['value']
    if a['dropout_p']:
        raise UnsupportedOperatorError("onnx.export: scaled_dot_product_attention with dropout_p > 0 does not export")
    scale = a['scale'] if a['scale'] is not None else 1 / math.sqrt(q.shape[-1])
    mask = _additive_mask(g, a['attn_mask'], q, q.shape[-2], k.shape[-2], a['is_causal'])
    _bind(g, out, _attention(g, g.name(q, 'sdpa'), g.name(k, 'sdpa'), g.name(v, 'sdpa'), scale, mask, q))


def multihead_attention(g, out, a, _):
    m = a['self']
    q, k, v = a['query'], a['key'], a['value']
    if a['key_padding_mask'] is not None:
        raise UnsupportedOperatorError("onnx.export: MultiheadAttention with key_padding_mask does not export")
    if getattr(m, 'bias_k', None) is not None or getattr(m, 'add_zero_attn', False) or \
            not getattr(m, '_qkv_same_embed_dim', True):
        raise UnsupportedOperatorError("onnx.export: MultiheadAttention with add_bias_kv, add_zero_attn or "
                                       "kdim/vdim != embed_dim does not export")
    if q.ndim != 3:
        raise UnsupportedOperatorError("onnx.export: MultiheadAttention on unbatched (2-d) inputs does not export")
    E, H = m.embed_dim, m.num_heads
    D = E // H
    w = m.in_proj_weight._data
    b = m.in_proj_bias._data if m.in_proj_bias is not None else None
    bf = m.batch_first

    def proj(x, i, perm):
        xn = g.name(x, 'MultiheadAttention')
        if not bf:
            xn = g.node('Transpose', [xn], perm=[1, 0, 2])
        y = g.node('MatMul', [xn, g.const(np.asarray(w[i * E:(i + 1) * E]).T)])
        if b is not None:
            y = g.node('Add', [y, g.const(np.asarray(b[i * E:(i + 1) * E]))])
        y = g.node('Reshape', [y, _ints(g, [0, 0, H, D])])
        return g.node('Transpose', [y], perm=perm)

    names = [proj(x, i, [0, 2, 1, 3]) for i, x in enumerate((q, k, v))]
    L, S = (q.shape[1], k.shape[1]) if bf else (q.shape[0], k.shape[0])
    mask = _additive_mask(g, a['attn_mask'], q, L, S, a['is_causal'])
    if mask is not None and a['attn_mask'] is not None and np.ndim(a['attn_mask']._data) == 3:
        raise UnsupportedOperatorError("onnx.export: MultiheadAttention with a 3-d attn_mask does not export")
    y = _attention(g, *names, 1 / math.sqrt(D), mask, Tensor._wrap(np.zeros((1,) * 4, _dtype(q))))
    y = g.node('Reshape', [g.node('Transpose', [y], perm=[0, 2, 1, 3]), _ints(g, [0, 0, E])])
    y = g.node('MatMul', [y, g.const(np.asarray(m.out_proj.weight._data).T)])
    if m.out_proj.bias is not None:
        y = g.node('Add', [y, g.name(m.out_proj.bias, 'MultiheadAttention')])
    if not bf:
        y = g.node('Transpose', [y], perm=[1, 0, 2])
    _bind(g, out[0], y)


def unsupported(what):
    def emit(g, out, a, name):
        raise UnsupportedOperatorError(f"onnx.export: {what} has no ONNX mapping in tensorgrad yet")
    return emit
