"""Differentiable primitives, grouped by family. Each op is a plain function
taking and returning Tensors; its backward is a small ``Node`` subclass
next to it."""
