"""Graphviz rendering of the autograd graph ending at a tensor, in the spirit
of micrograd's ``draw_dot``: one box per tensor we can reach (the root, the
leaves, intermediates kept with ``retain_grad()``) showing its data and grad,
one ellipse per recorded op, edges in the direction of the forward pass.

Needs the ``graphviz`` Python package to build the graph and the Graphviz
``dot`` binary to write an image.
"""
import html
import os
import shutil

import numpy as np

from . import backend
from ._tensor import Tensor
from .autograd.node import Node
from .dtypes import DEVICE

MAX_ELEMENTS = 16  # tensors up to this size show their values, larger ones a summary


def _require_graphviz():
    try:
        import graphviz  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise ImportError("render_graph: needs the graphviz Python package (`pip install graphviz`) "
                          "and the Graphviz `dot` binary (`apt-get install graphviz`)") from None
    return graphviz


def _format_array(arr):
    arr = backend.move(arr, DEVICE.CPU)
    if arr.size <= MAX_ELEMENTS:
        text = np.array2string(arr, precision=4, suppress_small=True, separator=' ', max_line_width=40)
    else:
        text = (f'shape {tuple(arr.shape)}\nmean {float(arr.mean()):.4g} std {float(arr.std()):.4g}'
                if arr.dtype.kind in 'fiu' else f'shape {tuple(arr.shape)}')
    return html.escape(text).replace('\n', '<BR ALIGN="LEFT"/>')


def _tensor_label(t, title, show_data, show_grad):
    cells = [f'<TD><B>{html.escape(title)}</B><BR/>{html.escape(str(tuple(t.shape)))} {t._data.dtype.name}</TD>']
    if show_data:
        cells.append(f'<TD ALIGN="LEFT">data<BR/>{_format_array(t._data)}</TD>')
    if show_grad:
        grad = 'None' if t.grad is None else _format_array(t.grad._data)
        cells.append(f'<TD ALIGN="LEFT">grad<BR/>{grad}</TD>')
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"><TR>{"".join(cells)}</TR></TABLE>>'


def build_graph(tensor, show_data=True, show_grad=True):
    """The ``graphviz.Digraph`` of the graph ending at ``tensor`` (no image written)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"render_graph: expected a Tensor, got {type(tensor).__name__}")
    graphviz = _require_graphviz()
    dot = graphviz.Digraph('autograd', graph_attr={'rankdir': 'LR'}, node_attr={'fontsize': '10'},
                          edge_attr={'fontsize': '9'})
    ids = {}

    def tensor_node(t, default_title):
        key = id(t)
        if key not in ids:
            ids[key] = f't{len(ids)}'
            dot.node(ids[key], _tensor_label(t, t.name or default_title, show_data, show_grad), shape='plaintext')
        return ids[key]

    def op_node(node):
        key = id(node)
        if key not in ids:
            ids[key] = f'n{len(ids)}'
            dot.node(ids[key], node.name, shape='ellipse', style='filled', fillcolor='lightgrey')
            kept = node.retained() if node.retained is not None else None
            if kept is not None:  # an intermediate kept by retain_grad(): show it as the op's output
                dot.edge(ids[key], tensor_node(kept, 'tensor'))
            return ids[key], True
        return ids[key], False

    root = tensor.grad_fn
    if root is None:
        tensor_node(tensor, 'tensor')
        return dot
    root_id, _ = op_node(root)
    out_id = tensor_node(tensor, 'output')
    if root.retained is None or root.retained() is not tensor:
        dot.edge(root_id, out_id)
    stack = [root]
    while stack:
        node = stack.pop()
        node_id = ids[id(node)]
        for i, child in enumerate(node.next):
            if child is None:  # an input that needs no gradient (data, a constant): not recorded
                src = f'c{len(ids)}'
                ids[src] = src
                dot.node(src, 'no grad', shape='box', style='dashed', fontcolor='grey40', color='grey60')
            elif isinstance(child, Node):
                child_id, new = op_node(child)
                if new:
                    stack.append(child)
                ckept = child.retained() if child.retained is not None else None
                src = ids[id(ckept)] if ckept is not None else child_id
            else:
                src = tensor_node(child, 'leaf')
            dot.edge(src, node_id, label=str(i) if len(node.next) > 1 else None)
    return dot


def render_graph(tensor, path=None, format='png', show_data=True, show_grad=True):
    """Build the graphviz ``Digraph`` of the autograd graph ending at ``tensor``
    and, when ``path`` is given, write it there as ``format`` (png, svg, pdf...;
    a path without an extension gets ``.format``). Returns the Digraph."""
    dot = build_graph(tensor, show_data=show_data, show_grad=show_grad)
    if path is not None:
        if shutil.which('dot') is None:
            raise RuntimeError("render_graph: the Graphviz `dot` binary was not found on PATH; "
                               "install it with `apt-get install graphviz` (or your system's package manager)")
        path = os.fspath(path)
        if not os.path.splitext(path)[1]:
            path = f'{path}.{format}'
        graphviz = _require_graphviz()
        try:
            data = dot.pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError("render_graph: the Graphviz `dot` binary could not be run; "
                               "install it with `apt-get install graphviz`") from None
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
    return dot
