"""``einsum`` with NumPy's subscript language: explicit (``'ij,jk->ik'``) and
implicit (``'ij,jk'``) outputs, ellipsis broadcasting (``'...ij,...jk->...ik'``)
and repeated subscripts within one operand (traces and diagonals, ``'ii'``,
``'ii->i'``).

The gradient for operand ``k`` is itself an einsum of the upstream gradient
with the other operands. Labels repeated in operand ``k`` are handled by
writing that einsum's result onto a strided diagonal view of a zero array;
labels summed away by operand ``k`` alone are broadcast back. A single-
operand einsum that NumPy computes as a view (``'ii->i'``, ``'ij->ji'``)
returns a view tensor sharing memory with its input.
"""
import string

import numpy as np

from .. import backend
from .._tensor import Tensor, as_view, track
from ..autograd.node import Node

_LETTERS = string.ascii_letters


def _parse(op, subscripts, shapes):
    """Resolve ellipses and the implicit output; returns (in_labels, out_labels, ell_shape),
    labels as strings of single letters."""
    subscripts = subscripts.replace(' ', '')
    if '->' in subscripts:
        lhs, out = subscripts.split('->')
        explicit = True
    else:
        lhs, out, explicit = subscripts, None, False
    ins = lhs.split(',')
    if len(ins) != len(shapes):
        raise ValueError(f"{op}: subscripts {subscripts!r} name {len(ins)} operands, got {len(shapes)}")
    used = set(c for c in subscripts if c.isalpha())
    for c in subscripts:
        if not (c.isalpha() or c in ',->.'):
            raise ValueError(f"{op}: invalid character {c!r} in subscripts {subscripts!r}")
    free = [c for c in _LETTERS if c not in used]
    ell_nd = 0
    for s, shp in zip(ins, shapes):
        if '...' in s:
            ell_nd = max(ell_nd, len(shp) - (len(s) - 3))
    ell = ''.join(free[:ell_nd])
    ell_sizes = [1] * ell_nd
    resolved = []
    for s, shp in zip(ins, shapes):
        if '...' in s:
            k = len(shp) - (len(s) - 3)
            if k < 0:
                raise ValueError(f"{op}: operand {s!r} has more subscripts than dimensions {shp}")
            lab = s.replace('...', ell[ell_nd - k:] if k else '')
            for i, n in enumerate(shp[s.index('...'):s.index('...') + k]):
                j = ell_nd - k + i
                if n != 1:
                    if ell_sizes[j] not in (1, n):
                        raise ValueError(f"{op}: ellipsis dimensions of shapes {shapes} do not broadcast")
                    ell_sizes[j] = n
        else:
            lab = s
        if len(lab) != len(shp):
            raise ValueError(f"{op}: operand subscripts {s!r} do not match its shape {shp}")
        resolved.append(lab)
    if explicit:
        out = out.replace('...', ell)
    else:
        counts = {}
        for lab in resolved:
            for c in lab:
                counts[c] = counts.get(c, 0) + 1
        out = ell + ''.join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    sizes = {}
    for lab, shp in zip(resolved, shapes):
        for c, n in zip(lab, shp):
            if c in ell:
                continue
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"{op}: subscript {c!r} has sizes {sizes[c]} and {n} in operands of shapes {shapes}")
    for c in out:
        if c not in sizes and c not in ell:
            raise ValueError(f"{op}: output subscript {c!r} does not appear in the inputs")
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: output subscripts {out!r} repeat a label")
    return resolved, out, dict(zip(ell, ell_sizes))


def _diag_view(xp, arr, labels):
    """A strided view of ``arr`` with one axis per distinct label (repeated labels become diagonals)."""
    uniq = ''.join(dict.fromkeys(labels))
    if uniq == labels:
        return arr, uniq
    shape, strides = [], []
    for c in uniq:
        dims = [i for i, d in enumerate(labels) if d == c]
        shape.append(arr.shape[dims[0]])
        strides.append(sum(arr.strides[i] for i in dims))
    return xp.lib.stride_tricks.as_strided(arr, shape, strides), uniq


def _einsum(xp, spec, *arrays):
    if xp is np and len(arrays) > 2:
        return np.einsum(spec, *arrays, optimize='greedy')
    return xp.einsum(spec, *arrays)


class EinsumBackward(Node):
    __slots__ = ()

    def backward(self, g):
        labels, out, arrays, sizes = self.saved
        xp = backend.array_module(g)
        grads = []
        for k, (lab, arr) in enumerate(zip(labels, arrays)):
            if self.next[k] is None:
                grads.append(None)
                continue
            others = [(labels[j], arrays[j]) for j in range(len(arrays)) if j != k]
            avail = set(out).union(*[set(lb) for lb, _ in others])
            uniq = ''.join(dict.fromkeys(lab))
            keep = ''.join(c for c in uniq if c in avail)
            spec = ','.join([out] + [lb for lb, _ in others]) + '->' + keep
            gk = _einsum(xp, spec, g, *[a for _, a in others])
            if keep != uniq:  # labels summed by this operand alone: broadcast back
                shape = tuple(sizes[c] if c in keep else 1 for c in uniq)
                gk = xp.broadcast_to(gk.reshape(shape), tuple(sizes[c] for c in uniq))
            if uniq != lab:
                full = xp.zeros(arr.shape, dtype=g.dtype)
                view, _ = _diag_view(xp, full, lab)
                view[...] = gk
                gk = full
            grads.append(gk)
        return tuple(grads)

    def backward_graph(self, g):  # the same contractions, as recorded einsums
        labels, out, arrays, sizes = self.saved
        xp = backend.array_module(g._data)
        tensors = [_operand(self, k, a) for k, a in enumerate(arrays)]
        grads = []
        for k, (lab, arr) in enumerate(zip(labels, arrays)):
            if self.next[k] is None:
                grads.append(None)
                continue
            others = [(labels[j], tensors[j]) for j in range(len(arrays)) if j != k]
            avail = set(out).union(*[set(lb) for lb, _ in others])
            uniq = ''.join(dict.fromkeys(lab))
            keep = ''.join(c for c in uniq if c in avail)
            gk = einsum(','.join([out] + [lb for lb, _ in others]) + '->' + keep, g, *[t for _, t in others])
            if keep != uniq:  # labels summed by this operand alone: broadcast back
                gk = gk.reshape(tuple(sizes[c] if c in keep else 1 for c in uniq)).expand(
                    *(sizes[c] for c in uniq))
            if uniq != lab:  # repeated labels: gk broadcast over the repeats, kept on their diagonal
                diag = xp.zeros(arr.shape, dtype=g._data.dtype)
                view, _ = _diag_view(xp, diag, lab)
                view[...] = 1
                seen, shape = set(), []
                for c in lab:
                    shape.append(1 if c in seen else sizes[c])
                    seen.add(c)
                gk = gk.reshape(tuple(shape)) * Tensor._wrap(diag)
            grads.append(gk)
        return tuple(grads)


def _operand(node, k, arr):
    """Operand ``k`` as a tensor in the graph with the saved (possibly broadcast) shape of ``arr``."""
    edge = node.next[k]
    if edge is None:
        return Tensor._wrap(arr)
    shape = tuple(edge.shape if isinstance(edge, Node) else edge._data.shape)
    if shape == arr.shape:
        return node.input(k, arr)
    lead = arr.ndim - len(shape)  # forward added ``lead`` dims and broadcast the size-1 ones
    orig = arr[(0,) * lead + tuple(slice(0, 1) if n == 1 else slice(None) for n in shape)]
    return node.input(k, orig).reshape((1,) * lead + shape).expand(*arr.shape)


def einsum(subscripts, *operands):
    """Einstein summation over tensors (and array-likes, treated as constants) with
    NumPy's subscripts: implicit/explicit output, ellipsis broadcasting, repeated subscripts."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)) and operands[0] and \
            isinstance(operands[0][0], Tensor):
        operands = tuple(operands[0])  # torch.einsum(eq, [a, b])
    if not isinstance(subscripts, str):
        raise TypeError("einsum: only the string form of the subscripts is supported")
    like = next((t for t in operands if isinstance(t, Tensor)), None)
    tensors = []
    for t in operands:
        if not isinstance(t, Tensor):
            t = Tensor(t, requires_grad=False) if like is None else like.from_data(t) \
                if not isinstance(t, backend.array_types()) else Tensor._wrap(t)
        tensors.append(t)
    arrays = [t._data for t in tensors]
    cls = arrays[0].__class__
    if any(a.__class__ is not cls for a in arrays):
        raise RuntimeError(f"einsum: expected all operands on one device, got {[t.device.value for t in tensors]}")
    if len({a.dtype for a in arrays}) > 1:
        from ..dtypes import promote  # noqa: PLC0415
        dt = arrays[0].dtype
        for a in arrays[1:]:
            dt = promote(dt, a.dtype)
        arrays = [a.astype(dt) for a in arrays]
    labels, out, ell = _parse('einsum', subscripts, [a.shape for a in arrays])
    xp = backend.array_module(arrays[0])
    sizes = dict(ell)
    for lab, a in zip(labels, arrays):
        for c, n in zip(lab, a.shape):
            if c not in ell:
                sizes[c] = n
    # ellipsis dims of different lengths/sizes broadcast: expand the operands (views, no copies)
    exp_labels, exp_arrays = [], []
    for lab, a in zip(labels, arrays):
        missing = ''.join(c for c in ell if c not in lab)
        lab2 = missing + lab
        shape = tuple(sizes[c] if c in ell else n for c, n in zip(lab2, (1,) * len(missing) + a.shape))
        if shape != a.shape:
            a = xp.broadcast_to(a.reshape((1,) * len(missing) + a.shape), shape)
        exp_labels.append(lab2)
        exp_arrays.append(a)
    spec = ','.join(exp_labels) + '->' + out
    try:
        res = _einsum(xp, spec, *exp_arrays)
    except ValueError as e:
        raise ValueError(f"einsum: {subscripts!r} with shapes {[a.shape for a in arrays]}: {e}") from None
    if not isinstance(res, backend.array_types()):
        res = xp.asarray(res)
    # an operand is needed only for the gradients of the others
    needed = tuple(t for i, t in enumerate(tensors)
                   if any(u is not None and u._rg for j, u in enumerate(tensors) if j != i))
    t = track(res, EinsumBackward, tensors, (exp_labels, out, exp_arrays, sizes), check=needed)
    if len(tensors) == 1 and xp is np and res.base is not None and np.may_share_memory(res, arrays[0]):
        as_view(t, tensors[0])
    return t


EXPORTS = ('einsum',)
