"""Machine description and the Markdown report (BENCHMARK.md).

The report has one section per device (``cpu``, ``cuda``) between marker
comments; a run replaces its own device's section and keeps the other, so a
CPU run and a CUDA run (on different machines) can share one file.
"""
import datetime
import math
import os
import platform
import re

_TITLE = '# Benchmark: tensorgrad vs PyTorch\n'
_INTRO = ('Times are medians of repeated runs after warm-up, both libraries in one process on the same '
          'float32 inputs and weights; **ratio = tensorgrad time / PyTorch time** (below 1 means tensorgrad '
          'is faster). Regenerate with the command shown in each section (see `benchmarks/README.md`).\n')


# ---------------------------------------------------------------- machine
def _cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_lines():
    try:
        import threadpoolctl  # noqa: PLC0415
    except ImportError:
        return _numpy_config_blas()
    lines = []
    for info in threadpoolctl.threadpool_info():
        owner = 'torch' if 'torch' in info.get('filepath', '') else (
            'numpy' if 'numpy' in info.get('filepath', '') else os.path.basename(info.get('filepath', '')))
        lines.append(f"{owner}: {info.get('internal_api')} {info.get('version') or ''} "
                     f"({info.get('user_api')}, {info.get('num_threads')} threads"
                     + (f", {info['architecture']}" if info.get('architecture') else '') + ')')
    return lines or _numpy_config_blas()


def _numpy_config_blas():
    import numpy as np  # noqa: PLC0415
    try:
        blas = np.show_config(mode='dicts')['Build Dependencies']['blas']
        return [f"numpy: {blas.get('name')} {blas.get('version')}"]
    except Exception:  # noqa: BLE001 - older NumPy: no dict mode
        return ['numpy: BLAS unknown']


def machine_info(device, threads):
    """Lines describing the machine and the software versions."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    lines = [f'CPU: {_cpu_name()}, {os.cpu_count()} logical cores; threads used by both libraries: {threads}',
             f'OS: {platform.platform()}; Python {platform.python_version()}',
             f'NumPy {np.__version__}; PyTorch {torch.__version__} '
             f'(torch.get_num_threads() = {torch.get_num_threads()})']
    try:
        import tensorgrad  # noqa: PLC0415
        from .libs import tensorgrad_threads  # noqa: PLC0415
        lines.append(f'tensorgrad {getattr(tensorgrad, "__version__", "?")} '
                     f'(worker threads: {tensorgrad_threads()})')
    except Exception as e:  # noqa: BLE001
        lines.append(f'tensorgrad: failed to import ({e})')
    lines += [f'BLAS/OpenMP pools: {line}' for line in _blas_lines()]
    if device == 'cuda':
        import cupy  # noqa: PLC0415
        lines.append(f'GPU: {torch.cuda.get_device_name(0)}; CuPy {cupy.__version__}; '
                     f'torch CUDA {torch.version.cuda}')
    return lines


def load_average():
    """'1.23 / 1.10 / 0.98' (1, 5, 15 minutes) or 'n/a'."""
    try:
        return ' / '.join(f'{x:.2f}' for x in os.getloadavg())
    except OSError:
        return 'n/a'


# ---------------------------------------------------------------- formatting
def fmt_time(sec):
    """Seconds in a readable unit."""
    if sec is None:
        return ''
    if sec < 1e-3:
        return f'{sec * 1e6:.1f} µs'
    if sec < 1:
        return f'{sec * 1e3:.2f} ms'
    return f'{sec:.2f} s'


def fmt_ratio(r):
    """'1.23x', or '—' when missing."""
    return '—' if r is None else f'{r:.2f}x'


def _cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def geomean(values):
    """Geometric mean of positive values, None when empty."""
    values = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _lib_cell(res, lib):
    if lib in res.times:
        return fmt_time(res.times[lib])
    return _cell(f"n/a ({res.errors.get(lib, 'not run')})")


_THROUGHPUT = {}  # case name -> (items per timed call, unit)


def set_throughput(name, items, unit):
    """Report the case ``name`` with its throughput too: ``items`` ``unit`` (tokens, images) per timed call."""
    _THROUGHPUT[name] = (items, unit)


def throughput(name, seconds):
    """(items per second, unit) of case ``name`` taking ``seconds`` per call, or None."""
    if name not in _THROUGHPUT or not seconds:
        return None
    items, unit = _THROUGHPUT[name]
    return items / seconds, unit


def _rate_cell(name, res, lib):
    rate = throughput(name, res.times.get(lib)) if res is not None else None
    return '' if rate is None else f'{rate[0]:,.0f} {rate[1]}/s'


def group_table(rows, phases):
    """Markdown table for one group: ``rows`` are (case name, {phase: PhaseResult}); cases with a
    throughput (``set_throughput``) get a throughput column per library (items / median time)."""
    rated = any(name in _THROUGHPUT for name, _ in rows)
    head = ['case']
    for ph in phases:
        suffix = '' if len(phases) == 1 else f' {ph}'
        head += [f'tensorgrad{suffix}', f'PyTorch{suffix}', f'ratio{suffix}']
        if rated:
            head += [f'tensorgrad throughput{suffix}', f'PyTorch throughput{suffix}']
    out = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, results in rows:
        note = next((r.mismatch for r in results.values() if r.mismatch), '')
        cells = [_cell(name + (f' ⚠ {note}' if note else ''))]
        for ph in phases:
            res = results.get(ph)
            cells += ['', '', ''] if res is None else [_lib_cell(res, 'tensorgrad'), _lib_cell(res, 'torch'),
                                                       fmt_ratio(res.ratio())]
            if rated:
                cells += [_rate_cell(name, res, 'tensorgrad'), _rate_cell(name, res, 'torch')]
        out.append('| ' + ' | '.join(cells) + ' |')
    means = ['**geometric mean**']
    for ph in phases:
        ratios = [r[ph].ratio() for _, r in rows if ph in r]
        g = geomean(ratios)
        means += ['', '', f'**{fmt_ratio(g)}**' + (f' ({sum(x is not None for x in ratios)}/{len(ratios)})'
                                                   if g is not None else '')]
        means += ['', ''] if rated else []
    out.append('| ' + ' | '.join(means) + ' |')
    return '\n'.join(out)


def summary_rows(groups):
    """[(group, phase, geomean, worst case, n)] for the summary table."""
    rows = []
    for group, (phases, rows_) in groups.items():
        for ph in phases:
            rated = [(r[ph].ratio(), name) for name, r in rows_ if ph in r and r[ph].ratio() is not None]
            g = geomean([x for x, _ in rated])
            worst = max(rated) if rated else None
            rows.append((group, ph, g, worst, f'{len(rated)}/{sum(ph in r for _, r in rows_)}'))
    return rows


_MEMORY_MEASURES = (('steady_kib', 'peak RSS increase during a step (steady state)'),
                    ('first_kib', 'peak RSS increase during the first step'),
                    ('held_kib', 'peak RSS of a steady step above the RSS before the first step'))


def _memory_rows(mem, first_cell=None):
    def kib(v):
        return f'{v / 1024:.1f} MiB'
    out = []
    for key, label in _MEMORY_MEASURES:
        cells = []
        vals = {}
        for lib in ('tensorgrad', 'torch'):
            r = mem.get(lib)
            if isinstance(r, dict) and key in r:
                vals[lib] = r[key]
                cells.append(kib(r[key]))
            else:
                cells.append(_cell(f'n/a ({r if not isinstance(r, dict) else "not measured"})'))
        ratio = vals['tensorgrad'] / vals['torch'] if len(vals) == 2 and vals['torch'] > 0 else None
        lead = '' if first_cell is None else f'{_cell(first_cell)} | '
        out.append(f'| {lead}{label} | {cells[0]} | {cells[1]} | {fmt_ratio(ratio)} |')
    return out


def memory_table(mem):
    """Markdown table for one peak-memory measurement: {lib: dict or error string}."""
    return '\n'.join(['| measure | tensorgrad | PyTorch | ratio |', '|---|---|---|---|'] + _memory_rows(mem))


def memory_tables(mems):
    """One Markdown table for several peak-memory measurements: {label: {lib: dict or error string}}
    (``memory.measure_all``); a "step" of an inference row is one forward call."""
    out = ['| model | measure | tensorgrad | PyTorch | ratio |', '|---|---|---|---|---|']
    for label, mem in mems.items():
        out += _memory_rows(mem, label)
    return '\n'.join(out)


# ---------------------------------------------------------------- file
def write_section(path, device, body):
    """Put ``body`` as the ``device`` section of the report at ``path``, keeping other sections."""
    begin, end = f'<!-- BEGIN {device} -->', f'<!-- END {device} -->'
    block = f'{begin}\n{body.rstrip()}\n{end}\n'
    old = ''
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            old = f.read()
    if begin in old and end in old:
        new = re.sub(re.escape(begin) + '.*?' + re.escape(end) + r'\n?', lambda _: block, old, flags=re.S)
    else:
        if not old.startswith(_TITLE):
            old = _TITLE + '\n' + _INTRO + '\n'
        sections = {d: re.search(f'<!-- BEGIN {d} -->.*?<!-- END {d} -->\n?', old, flags=re.S)
                    for d in ('cpu', 'cuda')}
        sections[device] = None
        parts = [_TITLE, _INTRO]
        for d in ('cpu', 'cuda'):
            if d == device:
                parts.append(block)
            elif sections[d]:
                parts.append(sections[d].group(0))
        new = '\n'.join(parts)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(new)


def now_utc():
    """Current UTC time, to the minute."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
