"""Train the small vision transformer on a subset of (Fashion-)MNIST and print
test accuracy. AdamW with linear warmup and cosine decay per step.

Command: ``python -m examples.mnist.vit.train [--patch_size 4] [--embed 128] ...``
(``--help`` lists the options; ``--resume`` continues an interrupted run).
"""
import tensorgrad

from ...common import checkpoint_path
from ..trainer import base_parser, run
from .model import ViT


def main(argv=None):
    """Parse options, train, and return the result dict (test accuracy, history)."""
    parser = base_parser('train a small vision transformer on (Fashion-)MNIST',
                         checkpoint=checkpoint_path(__file__, 'vit.tgc'))
    parser.add_argument('--patch_size', type=int, default=4, help='ViT patch size')
    parser.add_argument('--embed', type=int, default=128, help='ViT embedding dimensionality (d_model)')
    parser.add_argument('--num_heads', type=int, default=2,
                        help='ViT number of attention heads per single encoder layer')
    parser.add_argument('--num_layers', type=int, default=1, help='ViT number of encoder layers')
    args = parser.parse_args(argv)
    tensorgrad.manual_seed(args.seed)  # model initialisation depends on it
    model = ViT(args.patch_size, args.embed, args.num_heads, args.num_layers)

    def make_scheduler(optimizer, steps_per_epoch):
        total = max(1, args.epochs * steps_per_epoch)
        return tensorgrad.optim.CosineWarmupLR(optimizer, warmup_steps=min(200, total // 10),
                                               lr_decay_iters=total, min_lr=args.lr / 20)

    return run(args, model, lambda params: tensorgrad.optim.AdamW(params, lr=args.lr, weight_decay=0.05),
               make_scheduler)


if __name__ == '__main__':
    main()
