"""Render the autograd graph of a linear function ``y = x @ w.T + b`` (plus a
sum to a scalar) with the data and grad of every tensor, after backward.

Command: ``python -m examples.graph [--output examples/graph.png] [--format png]``
Needs the graphviz Python package and the Graphviz ``dot`` binary.
"""
import argparse
import os

import tensorgrad

DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'graph.png')


def main(argv=None):
    """Build the linear function, back-propagate, and write the graph image."""
    parser = argparse.ArgumentParser(description='render the autograd graph of a linear function',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='image file to write')
    parser.add_argument('--format', default='png', help='image format (png, svg, pdf, ...)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    tensorgrad.manual_seed(args.seed)

    x = tensorgrad.randn(2, 3, requires_grad=True)
    w = tensorgrad.randn(2, 3, requires_grad=True)
    b = tensorgrad.zeros(2, requires_grad=True)
    x.name, w.name, b.name = 'x', 'w', 'b'
    xw = x @ w.T
    y = xw + b
    out = y.sum()
    # intermediates keep their grad (and show it in the picture) only when asked to
    for t, name in ((xw, 'x @ w.T'), (y, 'y = x @ w.T + b'), (out, 'y.sum()')):
        t.retain_grad()
        t.name = name
    out.backward()
    out.render(args.output, format=args.format)
    print(f'graph written to {args.output}')
    return args.output


if __name__ == '__main__':
    main()
