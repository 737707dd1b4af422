"""The reference API (spec/tensorgrad-DOCS.md) sections ``tensorgrad.tensor``
and ``tensorgrad.ctx`` are fully present, with the documented parameters
(checked with the shared tools/api_coverage.py; nn/optim belong elsewhere)."""
import contextlib
import importlib.util
import io
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent.parent / 'shared' / 'tools' / 'api_coverage.py'
SECTIONS = ('tensorgrad.tensor.', 'tensorgrad.ctx.', 'tensorgrad.DTYPE.', 'tensorgrad.DEVICE.')


def _report():
    if not TOOL.exists():
        pytest.skip(f'{TOOL} not found')
    spec = importlib.util.spec_from_file_location('api_coverage', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mod.main([])
    return buf.getvalue().splitlines()


def test_tensor_and_ctx_sections_complete():
    lines = _report()
    problems = [ln for ln in lines if ln.startswith(('missing', 'params'))
                and any(sec in ln for sec in SECTIONS)]
    assert not problems, '\n'.join(problems)
