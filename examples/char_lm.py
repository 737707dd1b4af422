"""A small character-level causal transformer language model, trained on the
text in examples/char_lm.txt (or --text FILE): token + position embeddings,
pre-norm decoder blocks (causal multi-head self-attention and an MLP), AdamW
with linear warmup and cosine decay, gradient clipping, checkpoints every
--save_every steps that --resume continues from; prints sampled text at the end.

Command: ``python -m examples.char_lm [--steps 500] [--seed 0] [--resume] ...``
"""
import argparse
import os
import sys
import time

import numpy as np

import tensorgrad
from tensorgrad import nn

from .common import checkpoint_path, load_checkpoint, progress, save_checkpoint, seed_everything

DEFAULT_TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'char_lm.txt')


class Block(nn.Module):
    """Pre-norm decoder block: ``x + attn(ln(x), mask)``, then ``x + mlp(ln(x))``."""

    def __init__(self, embed, num_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed)
        self.attn = nn.MultiheadAttention(embed, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(embed)
        self.mlp = nn.Sequential(nn.Linear(embed, 4 * embed), nn.ReLU(), nn.Linear(4 * embed, embed))

    def forward(self, x, mask):
        """``x + attention(norm(x))``, then ``+ mlp(norm(.))``; ``mask`` hides future positions."""
        h = self.norm1(x)
        a = self.attn(h, h, h, attn_mask=mask)
        if isinstance(a, tuple):  # PyTorch's (output, weights)
            a = a[0]
        x = x + a
        return x + self.mlp(self.norm2(x))


class CharTransformer(nn.Module):
    """(B, T) character ids -> (B, T, vocab) logits of the next character."""

    def __init__(self, vocab_size, block_size=64, embed=64, num_heads=4, num_layers=2):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, embed)
        self.pos = nn.Embedding(block_size, embed)
        self.blocks = nn.ModuleList([Block(embed, num_heads) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(embed)
        self.head = nn.Linear(embed, vocab_size)
        # made once and moved with the model (not saved): no host-to-device copy per step
        self.register_buffer('positions', tensorgrad.arange(block_size, requires_grad=False), persistent=False)
        # True above the diagonal: a position never attends to later ones
        mask = np.triu(np.ones((block_size, block_size), dtype=bool), 1)
        self.register_buffer('causal_mask', tensorgrad.tensor(mask, requires_grad=False), persistent=False)

    def forward(self, ids):
        """Next-character logits ``(batch, time, vocabulary)`` for the ids ``(batch, time)``."""
        t = ids.shape[1]
        if t > self.block_size:
            raise ValueError(f"CharTransformer: sequence of {t} tokens exceeds block_size {self.block_size}")
        x = self.tok(ids) + self.pos(self.positions[:t])
        mask = self.causal_mask[:t, :t]
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x))


def get_batch(data, batch_size, block_size, rng, device):
    """Random windows of ``block_size + 1`` characters: inputs and next-char targets."""
    starts = rng.integers(0, len(data) - block_size - 1, size=batch_size)
    windows = data[starts[:, None] + np.arange(block_size + 1)]
    x = tensorgrad.tensor(windows[:, :-1], requires_grad=False).to(device)
    y = tensorgrad.tensor(windows[:, 1:], requires_grad=False).to(device)
    return x, y


def sample(model, prompt_ids, length, rng, temperature=0.8):
    """Extend ``prompt_ids`` by ``length`` characters drawn from the model."""
    model.eval()
    ids = list(prompt_ids)
    device = next(iter(model.parameters())).device
    with tensorgrad.no_grad():
        for _ in range(length):
            context = tensorgrad.tensor([ids[-model.block_size:]], requires_grad=False).to(device)
            logits = model(context)[0, -1].numpy().astype(np.float64) / max(temperature, 1e-6)
            p = np.exp(logits - logits.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return ids


def evaluate(model, data, args, rng, batches=4):
    """Mean loss over a few random batches of ``data`` (no graph)."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss()
    total = 0.0
    with tensorgrad.no_grad():
        for _ in range(batches):
            x, y = get_batch(data, args.batch_size, args.block_size, rng, args.device)
            total += loss_fn(model(x).reshape(-1, model.head.out_features), y.reshape(-1)).item()
    model.train()
    return total / batches


def parse_args(argv=None):
    """The example's options."""
    p = argparse.ArgumentParser(description='train a small character-level transformer language model',
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--text', default=DEFAULT_TEXT, help='training text file')
    p.add_argument('--device', default='cpu', help='device to train on')
    p.add_argument('--steps', type=int, default=500, help='number of training steps')
    p.add_argument('--batch_size', type=int, default=16, help='sequences per batch')
    p.add_argument('--block_size', type=int, default=64, help='context length in characters')
    p.add_argument('--embed', type=int, default=64, help='embedding dimensionality (d_model)')
    p.add_argument('--num_heads', type=int, default=4, help='attention heads per block')
    p.add_argument('--num_layers', type=int, default=2, help='number of transformer blocks')
    p.add_argument('--lr', type=float, default=3e-3, help='peak learning rate')
    p.add_argument('--min_lr', type=float, default=3e-4, help='final learning rate of the cosine decay')
    p.add_argument('--warmup', type=int, default=50, help='linear warmup steps')
    p.add_argument('--clip', type=float, default=1.0, help='max gradient norm')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    p.add_argument('--checkpoint', default=checkpoint_path(__file__, 'char_lm.tgc'),
                   help="checkpoint file ('' disables)")
    p.add_argument('--save_every', type=int, default=100, help='steps between checkpoints')
    p.add_argument('--resume', action='store_true', help='continue from --checkpoint if it exists')
    p.add_argument('--sample_len', type=int, default=300, help='characters to sample at the end')
    p.add_argument('--temperature', type=float, default=0.8, help='sampling temperature')
    p.add_argument('--prompt', default='The ', help='text the sample starts from')
    p.add_argument('--no_progress', action='store_true', help='no progress bar')
    p.add_argument('--log_every', type=int, default=10, help='steps between loss read-backs')
    return p.parse_args(argv)


def main(argv=None):
    """Train, print losses and a sample; returns a dict with losses and the sample."""
    args = parse_args(argv)
    seed_everything(args.seed)
    with open(args.text, encoding='utf-8') as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    if len(val) <= args.block_size + 1:
        raise SystemExit(f'char_lm: {args.text} is too short for block_size {args.block_size}')

    model = CharTransformer(len(chars), args.block_size, args.embed, args.num_heads, args.num_layers)
    model.to(args.device)
    optimizer = tensorgrad.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = tensorgrad.optim.CosineWarmupLR(optimizer, warmup_steps=min(args.warmup, args.steps),
                                                lr_decay_iters=max(args.steps, args.warmup), min_lr=args.min_lr)
    loss_fn = nn.CrossEntropyLoss()
    print(f'{len(text)} characters, vocabulary of {len(chars)}; '
          f'{sum(p.numel() for p in model.parameters())} parameters')

    start = 0
    state = load_checkpoint(args.checkpoint) if args.resume else None
    if state is not None:
        if state['chars'] != chars:
            raise SystemExit(f'char_lm: {args.checkpoint} was trained on another vocabulary')
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        scheduler.load_state_dict(state['scheduler'])
        start = state['step']
        print(f'resumed from {args.checkpoint} at step {start}')

    def checkpoint(step):
        if args.checkpoint:
            save_checkpoint({'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                             'scheduler': scheduler.state_dict(), 'step': step, 'chars': chars}, args.checkpoint)

    losses, pending = [], []
    model.train()
    t0 = time.perf_counter()
    bar = progress(range(start, args.steps), enabled=not args.no_progress, desc='training')
    try:
        for step in bar:
            # the batch of a step depends only on (seed, step): a resumed run sees the same data
            x, y = get_batch(train, args.batch_size, args.block_size, np.random.default_rng((args.seed, step)),
                             args.device)
            logits = model(x)
            loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            scheduler.step()
            pending.append(loss.detach())
            saving = (step + 1) % args.save_every == 0 or step + 1 == args.steps
            if saving or len(pending) == args.log_every:
                # read the losses back in one copy per interval: a per-step .item() would make a
                # GPU wait for every step to finish
                losses.extend(tensorgrad.stack(pending).tolist())
                pending.clear()
                bar.set_postfix(loss=f'{losses[-1]:.3f}', lr=f'{optimizer.param_groups[0]["lr"]:.2e}')
            if saving:
                val_loss = evaluate(model, val, args, np.random.default_rng((args.seed, 1 << 40)))
                bar.write(f'step {step + 1}/{args.steps}: train loss {np.mean(losses[-args.save_every:]):.4f}, '
                          f'val loss {val_loss:.4f}, {time.perf_counter() - t0:.1f} s')
                checkpoint(step + 1)
    except KeyboardInterrupt:
        where = f'; rerun with --resume to continue from {args.checkpoint}' if args.checkpoint else ''
        print(f'\ninterrupted{where}', file=sys.stderr)
        raise SystemExit(130) from None
    bar.close()

    prompt = [stoi[c] for c in args.prompt if c in stoi] or [0]
    ids = sample(model, prompt, args.sample_len, np.random.default_rng(args.seed), args.temperature)
    text_out = ''.join(chars[i] for i in ids)
    print('sample:')
    print(text_out)
    return {'losses': losses, 'sample': text_out}


if __name__ == '__main__':
    main()
