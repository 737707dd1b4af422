"""Runnable examples (``python -m examples.<name>``): xor, graph, moons,
char_lm, mnist.cnn.train, mnist.vit.train. See README.md "Examples"."""
