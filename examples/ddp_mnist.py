"""Data-parallel training of the small MNIST convnet with DistributedDataParallel.

    python -m tensorgrad.distributed.run --nproc-per-node 2 -m examples.ddp_mnist [--epochs 2] ...
    python -m examples.ddp_mnist [...]          # the same training in one process

``--batch_size`` is the global batch: each of the N processes takes
``batch_size / N`` samples of it (a ``DistributedSampler``), so N processes
train exactly like one process (same initial weights, same global batches,
averaged gradients): the test accuracy agrees up to floating-point rounding.
Data: Debian's ``dataset-fashion-mnist`` (``--data DIR`` for other IDX files).
"""
import argparse
import os
import time

import tensorgrad
import tensorgrad.distributed as dist
from tensorgrad.nn.parallel import DistributedDataParallel
from tensorgrad.utils.data import DataLoader
from tensorgrad.utils.data.distributed import DistributedSampler
from tensorgrad.utils.data.mnist import DEFAULT_ROOT

from .mnist.cnn.model import ConvNet
from .mnist.data import load_datasets
from .mnist.trainer import accuracy


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--epochs', type=int, default=2, help='number of epochs')
    p.add_argument('--batch_size', type=int, default=64, help='global batch size (all processes together)')
    p.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate')
    p.add_argument('--truncate_train', type=int, default=10000, help='number of training samples')
    p.add_argument('--truncate_test', type=int, default=2000, help='number of test samples')
    p.add_argument('--data', default=DEFAULT_ROOT, metavar='DIR', help='folder with (Fashion-)MNIST IDX files')
    p.add_argument('--seed', type=int, default=0, help='random seed (initial weights, data order)')
    return p.parse_args(argv)


def main(argv=None):
    """Train; returns {'test_accuracy', 'seconds', 'world_size'} (on every rank)."""
    args = parse_args(argv)
    distributed = 'WORLD_SIZE' in os.environ  # set by tensorgrad.distributed.run, as by torchrun
    if distributed:
        dist.init_process_group('mpi')
    world, rank = (dist.get_world_size(), dist.get_rank()) if distributed else (1, 0)
    if args.batch_size % world:
        raise SystemExit(f'--batch_size {args.batch_size} must be divisible by the {world} processes')
    train_set, test_set = load_datasets(args.data, args.truncate_train, args.truncate_test)
    tensorgrad.manual_seed(args.seed + rank)  # a different init per rank: DDP copies rank 0's
    model = ConvNet()
    if distributed:
        model = DistributedDataParallel(model)
    plain = model.module if distributed else model
    optimizer = tensorgrad.optim.Adam(model.parameters(), lr=args.lr)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler, drop_last=True)
    loss_fn = tensorgrad.nn.CrossEntropyLoss()
    if rank == 0:
        print(f'{world} process(es), global batch {args.batch_size} ({args.batch_size // world} per process), '
              f'{len(train_set)} training / {len(test_set)} test samples', flush=True)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        loss_sum, steps, te = 0.0, 0, time.perf_counter()
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            steps += 1
        if rank == 0:
            acc = accuracy(plain, test_set)
            print(f'epoch {epoch + 1}/{args.epochs}: mean loss (rank 0 shard) {loss_sum / max(steps, 1):.4f}, '
                  f'test accuracy {acc:.4f}, {time.perf_counter() - te:.1f} s', flush=True)
    seconds = time.perf_counter() - t0
    acc = accuracy(plain, test_set)
    if rank == 0:
        print(f'test accuracy: {acc:.4f} ({world} process(es), {seconds:.1f} s)', flush=True)
    if distributed:
        dist.destroy_process_group()
    return {'test_accuracy': acc, 'seconds': seconds, 'world_size': world}


if __name__ == '__main__':
    main()
