"""The torch-programs corpus: each program in ``programs/`` runs with PyTorch and
then, unchanged, with ``import torch`` resolving to tensorgrad; the results
(losses at every step, gradients, final parameters, printed logs, sampled
shapes) must agree. Tensorgrad's run gets torch's initial ``state_dict`` (as
NumPy arrays) when the program takes ``init_state``; the other programs set
their weights from a NumPy RandomState themselves."""
import importlib
import sys

import numpy as np
import pytest
import torch

from program_harness import assert_same, run_program, torch_is_tensorgrad

# (id, program, keyword arguments for main, tolerances)
CASES = [
    ('gpt-manual-attention', 'gpt', {}, {}),
    ('gpt-sdpa', 'gpt', {'flash': True}, {}),
    ('char-rnn-lstm', 'char_rnn', {'rnn_type': 'LSTM'}, {}),
    ('char-rnn-gru', 'char_rnn', {'rnn_type': 'GRU'}, {}),
    ('mnist-cnn', 'mnist_cnn', {'argv': ['--batch-size', '16', '--test-batch-size', '20', '--epochs', '2',
                                         '--train-size', '48', '--test-size', '20', '--log-interval', '2',
                                         '--dropout', '0', '0', '--save-model']}, {}),
    ('vae', 'vae', {}, {}),
    ('seq2seq-transformer', 'seq2seq_transformer', {}, {}),
    ('resnet', 'resnet', {}, {}),
    ('lbfgs-curve-fit', 'lbfgs_fit', {'parts': ('strong_wolfe', 'fixed_step')}, {}),
    # float32 L-BFGS: 20 quasi-Newton iterations amplify rounding (both libraries agree to 1e-13 in
    # float64, to ~2e-4 in float32; torch's own float32 and float64 runs differ by as much)
    ('lbfgs-mlp-float32', 'lbfgs_fit', {'parts': ('mlp',)}, {'rtol': 2e-3, 'atol': 1e-3}),
    ('data-pipeline', 'data_pipeline', {}, {}),
    ('vit', 'vit', {}, {}),
    ('checkpoint-resume', 'checkpoint_resume', {}, {}),
    ('micrograd-check', 'micrograd_check', {}, {'rtol': 1e-10, 'atol': 1e-10}),
]


@pytest.mark.parametrize('program, kwargs, tol', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_program_matches_torch(program, kwargs, tol, tmp_path):
    expected = run_program(program, 'torch', tmp_path=tmp_path / 'torch', **kwargs)
    actual = run_program(program, 'tensorgrad', tmp_path=tmp_path / 'tensorgrad',
                         init_state=expected.get('init_state'), **kwargs)
    assert_same(expected, actual, **tol)


def test_shim_maps_torch_imports_and_restores_them():
    import tensorgrad
    real = {k: v for k, v in sys.modules.items() if k == 'torch' or k.startswith('torch.')}
    with torch_is_tensorgrad():
        import torch as shimmed
        import torch.nn.functional as F
        from torch.utils.data import DataLoader
        assert shimmed is tensorgrad
        assert F is tensorgrad.nn.functional
        assert DataLoader is tensorgrad.utils.data.DataLoader
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module('torch.no_such_module')
    import torch as again
    assert again is torch and np.asarray(torch.ones(2).numpy()).sum() == 2
    assert {k: v for k, v in sys.modules.items() if k == 'torch' or k.startswith('torch.')} == real
    assert tensorgrad.__spec__.name == 'tensorgrad' and tensorgrad.nn.__spec__.name == 'tensorgrad.nn'


def test_assert_same_catches_differences():
    """The comparison used above fails on what it must catch."""
    base = {'loss': [1.0, 2.0], 'w': np.ones(3, np.float32), 'log': 'Loss: 0.500000', 'n': 3, 'ok': True}
    assert_same(base, dict(base, loss=[1.0, 2.0 + 1e-6], log='Loss: 0.500001'))
    for changed in ({'loss': [1.0, 2.1]}, {'w': np.ones(3, np.float64)}, {'w': np.ones(4, np.float32)},
                    {'log': 'Loss: 0.600000'}, {'log': 'loss: 0.500000'}, {'n': 4}, {'ok': False}):
        with pytest.raises(AssertionError):
            assert_same(base, dict(base, **changed))
    with pytest.raises(AssertionError):
        assert_same(base, {k: v for k, v in base.items() if k != 'n'})
