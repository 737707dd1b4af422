"""Inference latency of one model in tensorgrad, PyTorch and onnxruntime (batch 1 and 32).

The model is ``examples.from_pytorch``'s CNN and a small transformer encoder:
built in PyTorch, its state dict loaded into the tensorgrad twin, the
tensorgrad model exported with ``tensorgrad.onnx.export``. Median wall time
of a forward under ``no_grad`` / ``inference_mode``; outputs are compared.

Command: ``python -m benchmarks.inference [--repeat 50] [--threads 1]``
"""
import argparse
import io
import time

import numpy as np


def _median_seconds(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _models(torch, tg):
    from examples.from_pytorch import build  # noqa: PLC0415

    def encoder(nn):
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        return nn.Sequential(nn.TransformerEncoder(layer, 2), nn.Linear(32, 4))

    yield 'cnn 1x12x12', build, (1, 12, 12)
    yield 'encoder 16x32', encoder, (16, 32)


def run(repeat=50, threads=None):
    """Rows ``(model, batch, tensorgrad s, torch s, onnxruntime s, max |diff|)``."""
    import onnxruntime as ort  # noqa: PLC0415
    import torch  # noqa: PLC0415

    import tensorgrad as tg  # noqa: PLC0415
    if threads:
        torch.set_num_threads(threads)
        tg.set_num_threads(threads)
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    rows = []
    for name, make, shape in _models(torch, tg):
        torch.manual_seed(0)
        tm = make(torch.nn).eval()
        gm = make(tg.nn).eval()
        gm.load_state_dict(tm.state_dict())
        buf = io.BytesIO()
        tg.onnx.export(gm, tg.randn(1, *shape), buf, input_names=['x'], dynamic_axes={'x': [0], 'output_0': [0]})
        sess = ort.InferenceSession(buf.getvalue(), opts, providers=['CPUExecutionProvider'])
        for batch in (1, 32):
            x = np.random.default_rng(batch).standard_normal((batch, *shape)).astype(np.float32)
            xt, xg = torch.from_numpy(x), tg.tensor(x)
            with torch.inference_mode():
                want = tm(xt).numpy()
                t_torch = _median_seconds(lambda: tm(xt), repeat)
            with tg.no_grad():
                got = gm(xg).numpy()
                t_tg = _median_seconds(lambda: gm(xg), repeat)
            onnx_out = sess.run(None, {'x': x})[0]
            t_ort = _median_seconds(lambda: sess.run(None, {'x': x}), repeat)
            diff = max(np.abs(got - want).max(), np.abs(onnx_out - got).max())
            rows.append((name, batch, t_tg, t_torch, t_ort, float(diff)))
    return rows


def main(argv=None):
    """Print the latency table as markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=50)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    print('| model | batch | tensorgrad ms | PyTorch ms | onnxruntime ms | tensorgrad / PyTorch | max abs diff |')
    print('|---|---|---|---|---|---|---|')
    for name, batch, a, b, c, d in run(args.repeat, args.threads):
        print(f'| {name} | {batch} | {a * 1e3:.3f} | {b * 1e3:.3f} | {c * 1e3:.3f} | {a / b:.2f} | {d:.1e} |')


if __name__ == '__main__':
    main()
