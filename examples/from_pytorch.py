"""From PyTorch to tensorgrad to ONNX: a small CNN trained with PyTorch for a few
steps and saved with ``torch.save``; loaded into its tensorgrad twin in a child
process where ``import torch`` fails; predictions compared; the tensorgrad model
exported to ONNX and run in onnxruntime.

Command: ``python -m examples.from_pytorch [--steps 50] [--out DIR]``
(needs torch for the training half, onnx + onnxruntime for the export half).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(nn):
    """The same architecture in ``torch.nn`` or ``tensorgrad.nn`` (state-dict keys match)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 2))


def data(n, seed=0):
    """Images of 12x12 with a bright square in the top (class 0) or bottom (class 1) half."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, (n, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i in range(n):
        r, c = rng.integers(0, 3) + 6 * y[i], rng.integers(0, 9)
        x[i, 0, r:r + 3, c:c + 3] += 1.5
    return x, y


def train_and_save(steps, out):
    """Train the torch model, save its state dict and its predictions on a test batch."""
    import torch  # noqa: PLC0415 - only this half needs torch

    torch.manual_seed(0)
    model = build(torch.nn)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = data(256)
    for step in range(steps):
        idx = np.random.default_rng(step).integers(0, len(x), 32)
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    xt, yt = data(64, seed=1)
    with torch.no_grad():
        logits = model(torch.from_numpy(xt)).numpy()
    torch.save(model.state_dict(), os.path.join(out, 'model.pt'))
    np.save(os.path.join(out, 'x_test.npy'), xt)
    np.save(os.path.join(out, 'torch_logits.npy'), logits)
    print(f"torch: trained {steps} steps, last loss {loss.item():.4f}, test accuracy "
          f"{(logits.argmax(1) == yt).mean():.3f}; saved {os.path.join(out, 'model.pt')}")


def load_and_export(out):
    """In a process without torch: load the .pt into tensorgrad, compare, export to ONNX, run onnxruntime."""
    import tensorgrad  # noqa: PLC0415

    model = build(tensorgrad.nn)
    model.load_state_dict(tensorgrad.load(os.path.join(out, 'model.pt')))
    model.eval()
    x = np.load(os.path.join(out, 'x_test.npy'))
    want = np.load(os.path.join(out, 'torch_logits.npy'))
    with tensorgrad.no_grad():
        got = model(tensorgrad.tensor(x)).numpy()
    print(f"tensorgrad (torch imported: {'torch' in sys.modules}): max |logits - torch's| = "
          f"{np.abs(got - want).max():.2e}, same predictions: {bool((got.argmax(1) == want.argmax(1)).all())}")
    try:
        import onnxruntime  # noqa: PLC0415
    except ImportError:
        print("onnxruntime is not installed: skipping the ONNX half (pip install onnx onnxruntime)")
        return
    path = os.path.join(out, 'model.onnx')
    tensorgrad.onnx.export(model, tensorgrad.tensor(x[:1]), path, input_names=['image'], output_names=['logits'],
                           dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}})
    sess = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    onnx_out = sess.run(None, {'image': x})[0]
    print(f"onnxruntime ({path}): max |logits - tensorgrad's| = {np.abs(onnx_out - got).max():.2e}")


_BLOCK_TORCH = """
import runpy, sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == 'torch' or name.startswith('torch.'):
            raise ImportError('torch is blocked in this process')
sys.meta_path.insert(0, _NoTorch())
sys.path.insert(0, {root!r})
sys.argv = ['from_pytorch', '--load-only', '--out', {out!r}]
runpy.run_module('examples.from_pytorch', run_name='__main__')
"""


def main(argv=None):
    """Train in torch, then load + export in a child process that cannot import torch."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=50, help='PyTorch training steps')
    parser.add_argument('--out', default=None, help='directory for model.pt / model.onnx (default: a temp dir)')
    parser.add_argument('--load-only', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_only:
        load_and_export(args.out)
        return
    out = args.out or tempfile.mkdtemp(prefix='from_pytorch_')
    os.makedirs(out, exist_ok=True)
    train_and_save(args.steps, out)
    code = _BLOCK_TORCH.format(root=ROOT, out=out)
    subprocess.run([sys.executable, '-c', code], check=True)


if __name__ == '__main__':
    main()
