"""Other layers, two sizes each: pooling, norms, Embedding, CrossEntropyLoss, GELU, LSTM."""
from .case import floats, ints, module_case

GROUP = 'Other layers'


def _pool(kind, b, c, h, w, quick=False):
    return module_case(GROUP, f'{kind} {b}x{c}x{h}x{w} k2 s2', lambda nn: getattr(nn, kind)(2, 2),
                       [floats(b, c, h, w)], quick=quick)


def _batchnorm(b, c, h, w):
    return module_case(GROUP, f'BatchNorm2d {b}x{c}x{h}x{w}', lambda nn: nn.BatchNorm2d(c), [floats(b, c, h, w)])


def _layernorm(b, t, e, quick=False):
    return module_case(GROUP, f'LayerNorm {b}x{t}x{e}', lambda nn: nn.LayerNorm(e), [floats(b, t, e)], quick=quick)


def _embedding(vocab, dim, b, t):
    return module_case(GROUP, f'Embedding {vocab}x{dim} idx {b}x{t}', lambda nn: nn.Embedding(vocab, dim),
                       [ints(vocab, b, t)])


def _cross_entropy(b, classes, quick=False):
    return module_case(GROUP, f'CrossEntropyLoss {b}x{classes}', lambda nn: nn.CrossEntropyLoss(),
                       [floats(b, classes), ints(classes, b)], quick=quick)


def _gelu(*shape):
    return module_case(GROUP, f'GELU {"x".join(map(str, shape))}', lambda nn: nn.GELU(), [floats(*shape)])


def _lstm(b, t, fin, hidden):
    return module_case(GROUP, f'LSTM {b}x{t}x{fin} h{hidden}',
                       lambda nn: nn.LSTM(fin, hidden, batch_first=True), [floats(b, t, fin)])


CASES = [
    _pool('MaxPool2d', 8, 16, 32, 32, quick=True), _pool('MaxPool2d', 16, 64, 64, 64),
    _pool('AvgPool2d', 8, 16, 32, 32), _pool('AvgPool2d', 16, 64, 64, 64),
    _batchnorm(8, 16, 32, 32), _batchnorm(16, 64, 64, 64),
    _layernorm(32, 64, 128, quick=True), _layernorm(32, 128, 512),
    _embedding(1000, 64, 32, 64), _embedding(30000, 512, 32, 128),
    _cross_entropy(64, 10, quick=True), _cross_entropy(512, 1000),
    _gelu(256, 256), _gelu(32, 128, 1024),
    _lstm(16, 20, 32, 64), _lstm(32, 50, 128, 256),
]
