"""The reference's suite: Linear, Conv2d, MultiheadAttention, Softmax, three sizes each."""
from .case import floats, module_case

GROUP = 'Reference suite'


def _linear(batch, fin, fout, quick=False):
    return module_case(GROUP, f'Linear {batch}x{fin}->{fout}', lambda nn: nn.Linear(fin, fout),
                       [floats(batch, fin)], quick=quick)


def _conv(b, c, h, w, k, cout, quick=False):
    return module_case(GROUP, f'Conv2d {b}x{c}x{h}x{w} k{k} c{cout}', lambda nn: nn.Conv2d(c, cout, k),
                       [floats(b, c, h, w)], quick=quick)


def _mha(b, t, e, heads, quick=False):
    return module_case(GROUP, f'MultiheadAttention {b}x{t}x{e} h{heads}',
                       lambda nn: nn.MultiheadAttention(e, heads, batch_first=True, bias=False),
                       [floats(b, t, e)],
                       make_tg=lambda nn: nn.MultiheadAttention(e, heads),
                       call=lambda lib, m, xs: lib.mha(m, xs[0], xs[0], xs[0]), quick=quick)


def _softmax(rows, cols, quick=False):
    return module_case(GROUP, f'Softmax {rows}x{cols} dim -1', lambda nn: nn.Softmax(dim=-1),
                       [floats(rows, cols)], quick=quick)


CASES = [
    _linear(32, 64, 128, quick=True), _linear(32, 1024, 2048), _linear(128, 2048, 4096),
    _conv(4, 3, 32, 32, 3, 16, quick=True), _conv(8, 32, 64, 64, 3, 64), _conv(8, 64, 128, 128, 3, 128),
    _mha(16, 32, 64, 4, quick=True), _mha(32, 64, 128, 8), _mha(32, 128, 256, 8),
    _softmax(128, 64, quick=True), _softmax(512, 256), _softmax(1024, 512),
]
