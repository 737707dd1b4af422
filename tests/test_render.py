"""tensorgrad.render: the graphviz graph of the autograd graph (nodes, labels,
data/grad shown) and writing an image; skipped without graphviz/dot."""
import shutil
import sys

import numpy as np
import pytest

import tensorgrad as tg

graphviz = pytest.importorskip('graphviz')
needs_dot = pytest.mark.skipif(shutil.which('dot') is None, reason='needs the Graphviz dot binary')


def _linear():
    x = tg.tensor([[1.0, 2.0]], requires_grad=False, name='x')
    w = tg.tensor([[0.5], [-1.5]], requires_grad=True, name='w')
    b = tg.tensor([0.25], requires_grad=True, name='b')
    xw = x @ w
    xw.retain_grad()
    xw.name = 'xw'
    y = xw + b
    y.retain_grad()
    y.name = 'y'
    y.backward(np.array([[2.0]], np.float32))
    return y, xw  # retain_grad() keeps a weak reference: the caller holds xw


def test_graph_nodes_labels_and_edges():
    y, xw = _linear()
    dot = y.render()
    src = dot.source
    assert isinstance(dot, graphviz.Digraph)
    for op in ('Matmul', 'Add'):
        assert f'label={op}' in src
    for name in ('w', 'b', 'xw', 'y'):
        assert f'<B>{name}</B>' in src
    assert '<B>x</B>' not in src and 'no grad' in src  # x needs no grad: shown as a 'no grad' input
    # data and grad of the leaves and of the retained intermediates
    assert 'data<BR/>[[-2.5]]' in src  # xw = 1*0.5 + 2*(-1.5)
    assert src.count('grad<BR/>[[2.]]') == 2  # grad of y and of xw
    assert 'grad<BR/>[[2.]<BR ALIGN="LEFT"/> [4.]]' in src  # grad of w = x.T @ g
    assert src.count('->') == 6  # no grad->Matmul, w->Matmul, Matmul->xw, xw->Add, b->Add, Add->y
    hidden = tg.tensor([1.0], requires_grad=True).exp().render(show_data=False, show_grad=False).source
    assert 'data<BR/>' not in hidden and 'grad<BR/>' not in hidden


def test_leaf_only_and_large_tensors_are_summarised():
    t = tg.tensor(np.arange(100, dtype=np.float32).reshape(10, 10), requires_grad=True, name='big')
    src = t.render().source
    assert 'big' in src and 'shape (10, 10)' in src and 'mean 49.5' in src
    (t * 2).sum().backward()
    assert 'grad<BR/>shape (10, 10)' in t.render().source


def test_shared_subgraphs_appear_once():
    a = tg.tensor([1.0, 2.0], requires_grad=True, name='a')
    h = a.exp()
    out = (h * h + h).sum()
    src = out.render().source
    assert src.count('label=Exp') == 1 and src.count('<B>a</B>') == 1


@needs_dot
def test_writes_image(tmp_path):
    y, _ = _linear()
    y.render(tmp_path / 'graph.png')
    assert (tmp_path / 'graph.png').read_bytes()[:4] == b'\x89PNG'
    y.render(tmp_path / 'g', format='svg')
    assert b'<svg' in (tmp_path / 'g.svg').read_bytes()


def test_clear_errors(monkeypatch, tmp_path):
    from tensorgrad import render
    with pytest.raises(TypeError, match='render_graph'):
        render.render_graph(np.zeros(3))
    monkeypatch.setattr(render.shutil, 'which', lambda name: None)
    with pytest.raises(RuntimeError, match='apt-get install graphviz'):
        _linear()[0].render(tmp_path / 'x.png')
    monkeypatch.setitem(sys.modules, 'graphviz', None)  # import graphviz -> ImportError
    with pytest.raises(ImportError, match='pip install graphviz'):
        _linear()[0].render()
