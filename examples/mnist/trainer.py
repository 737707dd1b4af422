"""The training loop both MNIST examples share: options, data, epochs with a
tqdm progress bar (loss, accuracy, samples/s), test accuracy, and a checkpoint
after every epoch that ``--resume`` continues from (an interrupt loses at most
the epoch in progress)."""
import argparse
import sys
import time

import numpy as np

import tensorgrad
from tensorgrad.utils.data import DataLoader
from tensorgrad.utils.data.mnist import DEFAULT_ROOT

from ..common import load_checkpoint, progress, save_checkpoint, seed_everything
from .data import load_datasets


def base_parser(description, checkpoint):
    """Options common to the MNIST examples (the reference README's plus --data,
    --seed, --lr, --checkpoint, --resume, --no_progress)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--device', default='cpu', help='device to train on')
    p.add_argument('--epochs', type=int, default=20, help='number of epochs')
    p.add_argument('--batch_size', type=int, default=32, help='batch size')
    p.add_argument('--truncate_train', type=int, default=10000, help='number of training samples')
    p.add_argument('--truncate_test', type=int, default=1000, help='number of test samples')
    p.add_argument('--data', default=DEFAULT_ROOT, metavar='DIR',
                   help='folder with (Fashion-)MNIST IDX files (the default comes with '
                        '`apt-get install dataset-fashion-mnist`)')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    p.add_argument('--lr', type=float, default=1e-3, help='learning rate')
    p.add_argument('--checkpoint', default=checkpoint, help="checkpoint file written after every epoch ('' disables)")
    p.add_argument('--resume', action='store_true', help='continue from --checkpoint if it exists')
    p.add_argument('--no_progress', action='store_true', help='no progress bar')
    return p


def accuracy(model, dataset, batch_size=500):
    """Fraction of ``dataset`` that ``model`` classifies correctly."""
    model.eval()
    correct = 0
    with tensorgrad.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            correct += int((model(x).argmax(-1) == y).sum().item())
    return correct / len(dataset)


def run(args, model, make_optimizer, make_scheduler=None):
    """Train ``model`` as ``args`` say; returns the final test accuracy.
    ``make_scheduler(optimizer, steps_per_epoch)`` gives a per-step lr scheduler."""
    seed_everything(args.seed)
    train_set, test_set = load_datasets(args.data, args.truncate_train, args.truncate_test, args.device)
    model.to(args.device)
    optimizer = make_optimizer(model.parameters())
    steps_per_epoch = -(-len(train_set) // args.batch_size)
    scheduler = make_scheduler(optimizer, steps_per_epoch) if make_scheduler else None
    loss_fn = tensorgrad.nn.CrossEntropyLoss()
    print(f'{type(model).__name__}: {sum(p.numel() for p in model.parameters())} parameters; '
          f'{len(train_set)} training / {len(test_set)} test samples on {args.device}')

    start = 0
    state = load_checkpoint(args.checkpoint) if args.resume else None
    if state is not None:
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        if scheduler is not None and state.get('scheduler') is not None:
            scheduler.load_state_dict(state['scheduler'])
        start = state['epoch']
        print(f'resumed from {args.checkpoint} after epoch {start}')

    history = list(state['history']) if state is not None else []
    try:
        for epoch in range(start, args.epochs):
            # the order of an epoch depends only on (seed, epoch): a resumed run sees the same batches
            loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                generator=np.random.default_rng((args.seed, epoch)))
            model.train()
            seen = correct = 0
            loss_sum = 0.0
            t0 = time.perf_counter()
            bar = progress(loader, enabled=not args.no_progress, desc=f'epoch {epoch + 1}/{args.epochs}')
            for x, y in bar:
                logits = model(x)
                loss = loss_fn(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                n = y.shape[0]
                seen += n
                loss_sum += loss.item() * n
                correct += int((logits.argmax(-1) == y).sum().item())
                bar.set_postfix(loss=f'{loss_sum / seen:.4f}', acc=f'{correct / seen:.4f}',
                                sps=f'{seen / (time.perf_counter() - t0):.0f}')
            bar.close()
            elapsed = time.perf_counter() - t0
            test_acc = accuracy(model, test_set)
            history.append({'epoch': epoch + 1, 'loss': loss_sum / seen, 'train_acc': correct / seen,
                            'test_acc': test_acc, 'seconds': elapsed})
            print(f'epoch {epoch + 1}/{args.epochs}: loss {loss_sum / seen:.4f}, train accuracy {correct / seen:.4f}, '
                  f'test accuracy {test_acc:.4f}, {elapsed:.1f} s ({seen / elapsed:.0f} samples/s)', flush=True)
            if args.checkpoint:
                save_checkpoint({'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                                 'scheduler': scheduler.state_dict() if scheduler is not None else None,
                                 'epoch': epoch + 1, 'history': history}, args.checkpoint)
    except KeyboardInterrupt:
        where = f'; rerun with --resume to continue from {args.checkpoint}' if args.checkpoint else ''
        print(f'\ninterrupted{where}', file=sys.stderr)
        raise SystemExit(130) from None

    test_acc = accuracy(model, test_set)
    print(f'test accuracy: {test_acc:.4f}')
    return {'test_accuracy': test_acc, 'history': history}
