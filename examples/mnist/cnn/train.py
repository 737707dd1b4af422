"""Train the small convnet on a subset of (Fashion-)MNIST and print test accuracy.

Command: ``python -m examples.mnist.cnn.train [--epochs 20] [--batch_size 32] ...``
(``--help`` lists the options; ``--resume`` continues an interrupted run).
"""
import tensorgrad

from ...common import checkpoint_path
from ..trainer import base_parser, run
from .model import ConvNet


def main(argv=None):
    """Parse options, train, and return the result dict (test accuracy, history)."""
    parser = base_parser('train a small convnet on (Fashion-)MNIST',
                         checkpoint=checkpoint_path(__file__, 'cnn.tgc'))
    args = parser.parse_args(argv)
    tensorgrad.manual_seed(args.seed)  # model initialisation depends on it
    return run(args, ConvNet(), lambda params: tensorgrad.optim.Adam(params, lr=args.lr))


if __name__ == '__main__':
    main()
