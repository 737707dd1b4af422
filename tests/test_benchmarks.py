"""The benchmark harness runs end to end on a few tiny cases (no timing is asserted:
speed goals live in BENCHMARK.md, not in tests)."""
import json

import numpy as np
import pytest

pytest.importorskip('torch')
bench = pytest.importorskip('benchmarks.bench')
tg = pytest.importorskip('tensorgrad')
models = pytest.importorskip('benchmarks.models')
libs = pytest.importorskip('benchmarks.libs')


@pytest.mark.parametrize('case', ['mul 4x4', 'Softmax 128x64', 'MLP 784'])
def test_case_runs_and_outputs_agree(case, tmp_path):
    out, raw = tmp_path / 'BENCH.md', tmp_path / 'bench.json'
    threads = tg.get_num_threads()
    try:
        bench.main(['--filter', case, '--repeat', '2', '--seconds', '0.01', '--no-memory', '--threads', '1',
                    '--out', str(out), '--json', str(raw)])
    finally:
        tg.set_num_threads(threads)
    results = json.loads(raw.read_text())['results']
    assert results, f'no case matched {case!r}'
    for r in results:
        assert r['errors'] == {}, r
        assert not r['mismatch'], r  # both libraries computed the same outputs
        assert r['tensorgrad_s'] > 0 and r['torch_s'] > 0 and r['ratio'] > 0
    report = out.read_text()
    assert case in report and '### Targets' in report and '### Machine' in report


def test_cuda_without_gpu_exits_clearly(tmp_path):
    if tg.is_cuda_available():
        pytest.skip('a GPU is present')
    with pytest.raises(SystemExit) as e:
        bench.main(['--device', 'cuda', '--filter', 'mul 4x4', '--out', str(tmp_path / 'b.md')])
    assert 'cuda' in str(e.value).lower()


# ---------------------------------------------------------------- whole models (tiny sizes only)
TINY = {
    'GPT': lambda: models.gpt_spec(models.GPTConfig(vocab=11, block=6, layers=2, heads=2, d=8), batch=3),
    'ResNet': lambda: models.resnet_spec(models.ResNetConfig(widths=(4, 8, 8, 8), blocks=(1, 2, 1, 1), classes=5,
                                                             side=8), batch=4),
}


@pytest.mark.parametrize('name', sorted(TINY))
def test_models_agree_across_libraries(name):
    """Both libraries build the same model from one definition: same losses over three training
    steps (so the optimizer updates a tied weight once) and the same eval-mode inference output."""
    spec = TINY[name]()
    x, y = models.data(spec)
    losses, outputs = {}, {}
    for lib in (libs.TorchLib('cpu'), libs.TensorgradLib('cpu')):
        step = models.make_step(lib, spec, x, y)
        losses[lib.name] = [float(lib.to_numpy(step())) for _ in range(3)]
        outputs[lib.name] = lib.to_numpy(models.make_forward(lib, spec, x)())
    np.testing.assert_allclose(losses['tensorgrad'], losses['torch'], rtol=1e-4, atol=1e-5)
    assert losses['torch'][2] < losses['torch'][0]  # the steps train
    np.testing.assert_allclose(outputs['tensorgrad'], outputs['torch'], rtol=1e-4, atol=1e-5)
    assert outputs['torch'].shape == ((x.shape[0], x.shape[1], 11) if name == 'GPT' else (x.shape[0], 5))


def test_gpt_lm_head_is_tied():
    m = models.build_model(libs.TensorgradLib('cpu'), TINY['GPT']())
    assert m.lm_head.weight is m.wte.weight
    assert sum(p is m.wte.weight for p in m.parameters()) == 1


def test_throughput_column_and_model_targets():
    from benchmarks import cases_models, report, targets
    from benchmarks.case import PhaseResult
    train = next(c for c in cases_models.CASES if c.group == cases_models.TRAIN and c.name.startswith('GPT'))
    res = PhaseResult({'tensorgrad': 0.5, 'torch': 0.25})
    table = report.group_table([(train.name, {'step': res})], ['step'])
    tokens = models.GPT.items
    assert f'{tokens / 0.5:,.0f} tokens/s' in table and f'{tokens / 0.25:,.0f} tokens/s' in table
    rows = targets.check({cases_models.TRAIN: (['step'], [(train.name, {'step': res})])},
                         {'GPT training step': 1.1, 'GPT inference': None})
    assert ('GPT training step (time)', 1.0, 2.0) in rows
    assert ('GPT training step peak memory', 1.2, 1.1) in rows and ('GPT inference peak memory', 1.2, None) in rows
    mem = {'tensorgrad': {'steady_kib': 2048, 'first_kib': 4096}, 'torch': 'RuntimeError: boom'}
    assert 'n/a (RuntimeError: boom)' in report.memory_tables({'GPT inference': mem})


def test_memory_child_measures_a_model_and_mode():
    from benchmarks import memory
    r = memory.measure('tensorgrad', 1, 'CNN', 'infer')
    assert set(r) == {'steady_kib', 'first_kib', 'held_kib', 'baseline_kib'} and r['baseline_kib'] > 0
    assert r['held_kib'] >= r['steady_kib']
    with pytest.raises(ValueError, match='mode must be one of'):
        memory.measure('torch', 1, 'CNN', 'backward')


def test_startup_import_rows():
    """The start-up rows: import with numba blocked uses the NumPy kernels; the table lists each row."""
    from benchmarks import startup
    seconds, backend = startup._run(startup._IMPORT.format(block=True))
    assert backend == 'numpy' and 0 < seconds < 30
    text = startup.table({'import tensorgrad, numba blocked (no fast extra)': (seconds, backend)})
    assert '| import tensorgrad, numba blocked (no fast extra) |' in text and 'numpy |' in text
