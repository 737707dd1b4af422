"""ONNX export: ``tensorgrad.onnx.export(model, args, f, ...)``, as ``torch.onnx.export``.

The forward pass is traced (see ``_graph``): the model runs once on the
example inputs while functional calls, Tensor methods/operators and a few
module forwards are recorded as ONNX nodes (``_ops``); parameters and
buffers become initializers named by their state-dict keys. Needs the
optional ``onnx`` package (``pip install tensorgrad[onnx]``); ``import
tensorgrad`` never imports it.

What exports: linear, conv1d/2d (any padding), pad (constant/reflect/
replicate), max/avg pools, adaptive average pools to divisors, batch norm
(eval), layer norm (opset >= 17), group norm (via its reshapes), embedding,
relu/relu6/gelu/silu/sigmoid/tanh/leaky_relu/elu/hardtanh, softmax and
log_softmax, dropout (eval), elementwise + - * / ** and negation, matmul,
reshape/view/flatten/permute/transpose/unsqueeze/squeeze, int/slice
indexing, cat, mean/sum/max reductions, scaled_dot_product_attention and
``MultiheadAttention`` (PyTorch mode, no key padding mask) as a
MatMul/Softmax chain, so ``TransformerEncoder(Layer)`` exports. Anything
else on a tensor that depends on the inputs raises UnsupportedOperatorError
naming the op (recurrent modules among them).
"""
from .._tensor import Tensor
from ._graph import Graph, UnsupportedOperatorError, run_traced, trace_patches

__all__ = ['export', 'UnsupportedOperatorError', 'SUPPORTED', 'DEFAULT_OPSET']

DEFAULT_OPSET = 17


def _table():
    """``[(owner, attribute, emitter)]``: what the tracer wraps while exporting."""
    from .. import nn  # noqa: PLC0415 - nn loads lazily
    from ..nn import functional as F  # noqa: PLC0415
    import tensorgrad as tg  # noqa: PLC0415
    from . import _ops as o  # noqa: PLC0415

    functional = {
        'linear': o.linear, 'conv1d': o.conv, 'conv2d': o.conv, 'pad': o.pad, 'max_pool1d': o.max_pool,
        'max_pool2d': o.max_pool, 'avg_pool1d': o.avg_pool, 'avg_pool2d': o.avg_pool,
        'adaptive_avg_pool1d': o.adaptive_avg_pool, 'adaptive_avg_pool2d': o.adaptive_avg_pool,
        'batch_norm': o.batch_norm, 'layer_norm': o.layer_norm, 'embedding': o.embedding,
        'relu': o.unary_method('Relu'), 'sigmoid': o._unary('Sigmoid'), 'tanh': o._unary('Tanh'), 'gelu': o.gelu,
        'silu': o.silu, 'leaky_relu': o.leaky_relu, 'elu': o.elu, 'relu6': o.hardtanh, 'hardtanh': o.hardtanh,
        'softmax': o.softmax, 'log_softmax': o.softmax, 'dropout': o.dropout,
        'scaled_dot_product_attention': o.sdpa,
    }
    methods = {
        '__add__': o.binary('Add'), '__radd__': o.binary('Add', True), '__sub__': o.binary('Sub'),
        '__rsub__': o.binary('Sub', True), '__mul__': o.binary('Mul'), '__rmul__': o.binary('Mul', True),
        '__truediv__': o.binary('Div'), '__rtruediv__': o.binary('Div', True), '__neg__': o.neg,
        '__pow__': o.power, '__matmul__': o.matmul, '__rmatmul__': o.matmul, 'matmul': o.matmul, 'bmm': o.matmul,
        'reshape': o.reshape, 'view': o.reshape, 'flatten': o.flatten, 'permute': o.permute,
        'transpose': o.permute, 't': o.permute, 'unsqueeze': o.unsqueeze, 'squeeze': o.squeeze,
        'contiguous': o.identity, 'clone': o.identity, 'detach': o.identity, 'mean': o.reduce('ReduceMean'),
        'sum': o.reduce('ReduceSum'), 'exp': o.unary_method('Exp'), 'log': o.unary_method('Log'),
        'sqrt': o.unary_method('Sqrt'), 'abs': o.unary_method('Abs'), 'relu': o.unary_method('Relu'),
        'sigmoid': o.unary_method('Sigmoid'), 'tanh': o.unary_method('Tanh'), 'softmax': o.softmax,
        'log_softmax': o.softmax, '__getitem__': o.getitem,
    }
    top = {'matmul': o.matmul, 'bmm': o.matmul, 'cat': o.cat, 'concat': o.cat, 'concatenate': o.cat,
           'flatten': o.flatten, 'reshape': o.reshape, 'permute': o.permute, 'transpose': o.permute,
           'relu': o.unary_method('Relu'), 'sigmoid': o.unary_method('Sigmoid'),
           'tanh': o.unary_method('Tanh'), 'exp': o.unary_method('Exp'), 'mean': o.reduce('ReduceMean'),
           'sum': o.reduce('ReduceSum')}
    table = [(F, k, v) for k, v in functional.items() if hasattr(F, k)]
    table += [(Tensor, k, v) for k, v in methods.items() if hasattr(Tensor, k)]
    table += [(tg, k, v) for k, v in top.items() if hasattr(tg, k)]
    table.append((nn.MultiheadAttention, 'forward', o.multihead_attention))
    for rnn in ('RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell'):
        if hasattr(nn, rnn):
            table.append((getattr(nn, rnn), 'forward', o.unsupported(f"the recurrent module nn.{rnn}")))
    return table


def _supported_names():
    return ('linear', 'conv1d', 'conv2d', 'pad', 'max_pool1d', 'max_pool2d', 'avg_pool1d', 'avg_pool2d',
            'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'batch_norm', 'layer_norm', 'embedding', 'relu', 'relu6',
            'gelu', 'silu', 'sigmoid', 'tanh', 'leaky_relu', 'elu', 'hardtanh', 'softmax', 'log_softmax',
            'dropout', 'scaled_dot_product_attention', 'MultiheadAttention', '+', '-', '*', '/', '**', 'neg',
            'matmul', 'bmm', 'reshape', 'view', 'flatten', 'permute', 'transpose', 't', 'unsqueeze', 'squeeze',
            'contiguous', 'getitem (ints, slices)', 'cat', 'mean', 'sum', 'exp', 'log', 'sqrt', 'abs')


SUPPORTED = _supported_names()


def _dims(shape, axes):
    if axes is None:
        return list(shape)
    named = axes if isinstance(axes, dict) else {int(a): None for a in axes}
    return [named[i] if i in named and named[i] else (f'dim_{i}' if i in named else d) for i, d in enumerate(shape)]


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=None,
           do_constant_folding=True, verbose=False):
    """Trace ``model`` (a Module or callable) on the example input(s) ``args`` (a Tensor or a
    tuple of them) and write the ONNX model to ``f`` (a path or a writable binary file).
    ``input_names`` / ``output_names`` name the graph's inputs and outputs;
    ``dynamic_axes`` ({name: [axis, ...] or {axis: 'label'}}) marks axes of variable size;
    ``opset_version`` defaults to 17. Put the model in eval mode first (dropout and batch
    norm export their inference behaviour only). Returns the ``onnx.ModelProto``."""
    try:
        import onnx  # noqa: PLC0415
        from onnx import helper  # noqa: PLC0415
    except ImportError:
        raise ImportError("tensorgrad.onnx.export needs the onnx package: pip install onnx") from None
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset < 13:
        raise ValueError(f"onnx.export: opset_version {opset} is not supported (13 or newer)")
    inputs = (args,) if isinstance(args, Tensor) else tuple(args)
    if not all(isinstance(x, Tensor) for x in inputs):
        raise TypeError("onnx.export: args must be a Tensor or a tuple of Tensors")
    input_names = list(input_names or [f'input_{i}' for i in range(len(inputs))])
    if len(input_names) != len(inputs):
        raise ValueError(f"onnx.export: {len(input_names)} input_names for {len(inputs)} inputs")
    modules = list(model.modules()) if hasattr(model, 'modules') else []
    param_names = {}
    for m in modules[:1]:
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            param_names[id(t)] = name
    params = [p for p in (modules[0].parameters() if modules else []) if p.requires_grad]
    graph = Graph(param_names, opset)
    from ..autograd.grad_mode import enable_grad  # noqa: PLC0415

    traced_inputs = []
    for x, name in zip(inputs, input_names):
        t = Tensor._wrap(x._data.copy(), requires_grad=x._data.dtype.kind == 'f')
        graph.bind(t, name)
        traced_inputs.append(t)
    for p in params:
        p.requires_grad_(False)
    try:
        with trace_patches(_table(), modules), enable_grad():
            result = run_traced(graph, lambda: model(*traced_inputs))
    finally:
        for p in params:
            p.requires_grad_(True)
    outs = [result] if isinstance(result, Tensor) else list(result)
    if not all(isinstance(o, Tensor) for o in outs):
        raise TypeError("onnx.export: the model must return a Tensor or a tuple/list of Tensors")
    output_names = list(output_names or [f'output_{i}' for i in range(len(outs))])
    if len(output_names) != len(outs):
        raise ValueError(f"onnx.export: {len(output_names)} output_names for {len(outs)} outputs")
    for o, name in zip(outs, output_names):
        graph.nodes.append(helper.make_node('Identity', [graph.name(o, 'output')], [name], name=f'out_{name}'))
    dynamic_axes = dynamic_axes or {}

    def info(name, t):
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t._data.dtype),
                                             _dims(t.shape, dynamic_axes.get(name)))

    g = helper.make_graph(graph.nodes, type(model).__name__, [info(n, t) for n, t in zip(input_names, inputs)],
                          [info(n, t) for n, t in zip(output_names, outs)], initializer=graph.initializers)
    proto = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)], producer_name='tensorgrad')
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(proto)
    if hasattr(f, 'write'):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, f)
    if verbose:
        print(helper.printable_graph(proto.graph))
    return proto

