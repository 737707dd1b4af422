"""The fallback lookup of the ``tensorgrad.nn.modules.<file>`` re-export modules."""


def _forward(source, modname, name):
    """``source.name``, or the AttributeError a missing module attribute raises."""
    if not name.startswith('__'):
        try:
            return getattr(source, name)
        except AttributeError:
            pass
    raise AttributeError(f"module {modname!r} has no attribute {name!r}")
