"""``TENSOR_XP``: tensorgrad's functions under NumPy's names, so that an op's
gradient formula written as ``grad(xp, g, x, y)`` runs on Tensors too. With
``xp = TENSOR_XP`` and Tensor arguments the formula is recorded, which makes
the same line an op's first-order rule (on arrays) and its higher-order rule
(under ``create_graph=True``)."""


class _TensorNamespace:
    """Attribute lookup on the ``tensorgrad`` package (``xp.exp``, ``xp.where`` ...)."""

    def __getattr__(self, name):
        import tensorgrad  # noqa: PLC0415 - this module is imported while tensorgrad loads
        fn = getattr(tensorgrad, name)
        setattr(self, name, fn)
        return fn


TENSOR_XP = _TensorNamespace()
