"""PyTorch's ``torch.nn.modules.transformer`` path: ``Transformer`` and its encoder /
decoder layers, from ``tensorgrad.nn.transformer``, loaded on first use."""
import importlib

__all__ = ['Transformer', 'TransformerEncoder', 'TransformerDecoder', 'TransformerEncoderLayer',
           'TransformerDecoderLayer']


def __getattr__(name):
    """Each name is looked up in ``tensorgrad.nn.transformer`` when first asked for."""
    if name.startswith('__'):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        source = importlib.import_module('tensorgrad.nn.transformer')
    except ImportError as e:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} "
                             f"(tensorgrad.nn.transformer could not be imported: {e})") from e
    try:
        return getattr(source, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
