"""The higher-order-gradient examples (WGAN-GP, PINN), run in reduced form."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize('name', ['gradient_penalty', 'pinn'])
def test_help(name):
    out = subprocess.run([sys.executable, '-m', f'examples.{name}', '--help'], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert '--steps' in out.stdout and '--seed' in out.stdout and '--device' in out.stdout


def test_gradient_penalty_moves_the_generator_onto_the_data(capsys):
    from examples import gradient_penalty
    res = gradient_penalty.main(['--steps', '60', '--batch_size', '128', '--hidden', '32', '--eval_size', '500',
                                 '--lr', '5e-3'])
    assert res['final'] < res['start'] / 3, res
    assert 'sliced W1 to the data' in capsys.readouterr().out


def test_pinn_approaches_the_exact_solution(capsys):
    from examples import pinn
    error = pinn.main(['--steps', '300', '--points', '32', '--hidden', '16', '--lr', '1e-2'])
    assert error < 0.05, error  # untrained: about 1
    assert 'max |u - sin(x)|' in capsys.readouterr().out
