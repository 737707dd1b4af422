"""The benchmark harness runs end to end on a few tiny cases (no timing is asserted:
speed goals live in BENCHMARK.md, not in tests)."""
import json

import pytest

pytest.importorskip('torch')
bench = pytest.importorskip('benchmarks.bench')
tg = pytest.importorskip('tensorgrad')


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
