"""DOCS.md is generated from the docstrings by scripts/gen_docs.py: it must be in
sync with the code (regenerated in memory and compared)."""
import difflib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _gen_docs():
    spec = importlib.util.spec_from_file_location('gen_docs', ROOT / 'scripts' / 'gen_docs.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_in_sync():
    expected = _gen_docs().generate()
    path = ROOT / 'DOCS.md'
    assert path.exists(), 'DOCS.md is missing: run python scripts/gen_docs.py'
    current = path.read_text(encoding='utf-8')
    if current != expected:
        diff = ''.join(list(difflib.unified_diff(current.splitlines(True), expected.splitlines(True),
                                                 'DOCS.md', 'generated', n=1))[:60])
        raise AssertionError(f'DOCS.md is out of date: run python scripts/gen_docs.py\n{diff}')


def test_docs_cover_the_api():
    text = _gen_docs().generate()
    for heading in ('# `tensorgrad.tensor`', '# `tensorgrad.nn`', '# `tensorgrad.nn.functional`',
                    '# `tensorgrad.optim`', '# `tensorgrad.optim.lr_scheduler`', '# `tensorgrad.ctx`',
                    '# `tensorgrad.utils.data`', '# `tensorgrad.autograd`'):
        assert heading in text
    for entry in ('## `backward`', '## `render`', '## `Linear`', '## `Conv2d`', '## `SGD`', '## `Adam`',
                  '## `DataLoader`', '## `no_grad`'):
        assert entry in text
    assert ' at 0x' not in text  # no memory addresses: the output must be reproducible
