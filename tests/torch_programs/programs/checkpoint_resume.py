"""Checkpoint and resume, as training scripts do: ``torch.save`` a dict of the
epoch, model / optimiser / scheduler ``state_dict()``s and the loss, ``torch.load``
it into fresh objects and carry on; the resumed run must equal the uninterrupted
one. Also ``model.apply(init_fn)``, freezing with ``requires_grad_(False)``,
a forward hook, and ``named_modules``."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


def make_model():
    return nn.Sequential(
        nn.Linear(4, 16), nn.ReLU(),
        nn.Linear(16, 16), nn.Tanh(),
        nn.Linear(16, 2),
    )


def init_weights(rng):
    def init_fn(m):
        if isinstance(m, nn.Linear):
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, size=tuple(m.weight.shape))
                                                .astype(np.float32)))
                m.bias.fill_(0.01)
    return init_fn


def make_training(rng):
    model = make_model()
    model.apply(init_weights(rng))
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def train_epoch(model, optimizer, scheduler, X, Y):
    model.train()
    total = 0.0
    for i in range(0, len(X), 8):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(X[i:i + 8]), Y[i:i + 8])
        loss.backward()
        optimizer.step()
        total += loss.item()
    scheduler.step()
    return total


def main(seed=0, tmp_path=None, epochs=4, resume_at=2):
    rng = np.random.RandomState(seed)
    X = torch.from_numpy(rng.standard_normal((24, 4)).astype(np.float32))
    Y = (X[:, 0] * X[:, 1] > 0).long()
    os.makedirs(tmp_path, exist_ok=True)
    path = os.path.join(tmp_path, 'checkpoint.pt')

    # the uninterrupted run
    model, optimizer, scheduler = make_training(np.random.RandomState(seed + 1))
    straight = [train_epoch(model, optimizer, scheduler, X, Y) for _ in range(epochs)]
    straight_params = [p.detach().clone() for p in model.parameters()]

    # the same run, stopped after resume_at epochs, saved, loaded and continued
    model, optimizer, scheduler = make_training(np.random.RandomState(seed + 1))
    resumed = []
    for epoch in range(resume_at):
        resumed.append(train_epoch(model, optimizer, scheduler, X, Y))
    torch.save({
        'epoch': resume_at,
        'model_state_dict': model.state_dict(),
        'optimizer_state_dict': optimizer.state_dict(),
        'scheduler_state_dict': scheduler.state_dict(),
        'loss': resumed[-1],
    }, path)
    del model, optimizer, scheduler

    model, optimizer, scheduler = make_training(np.random.RandomState(seed + 99))
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint['model_state_dict'])
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    scheduler.load_state_dict(checkpoint['scheduler_state_dict'])
    start_epoch = checkpoint['epoch']
    for epoch in range(start_epoch, epochs):
        resumed.append(train_epoch(model, optimizer, scheduler, X, Y))

    resume_matches = all(torch.equal(a, b) for a, b in zip(straight_params, model.parameters()))

    # fine-tune only the head: freeze the rest, watch a hidden layer with a hook
    model.zero_grad()
    for p in model[:4].parameters():
        p.requires_grad_(False)
    seen = []
    handle = model[2].register_forward_hook(lambda module, inputs, output: seen.append(tuple(output.shape)))
    head_opt = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    head_opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X), Y)
    loss.backward()
    head_opt.step()
    handle.remove()
    model(X[:2])
    return {
        'straight': straight,
        'resumed': resumed,
        'straight_params': straight_params,
        'resume_matches_straight': resume_matches,
        'final_params': [p.detach().clone() for p in model.parameters()],
        'frozen_grads_none': [p.grad is None for p in model[:4].parameters()],
        'lr_after': optimizer.param_groups[0]['lr'],
        'checkpoint_epoch': checkpoint['epoch'],
        'hook_calls': seen,
        'module_names': [name for name, _ in model.named_modules()],
        'trainable': sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
