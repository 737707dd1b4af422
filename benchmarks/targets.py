"""The project's speed and memory targets, checked against a run's results."""
from . import cases_overhead, cases_suite, cases_training
from .case import BWD, FWD
from .report import fmt_ratio, geomean

SUITE = cases_suite.GROUP


def _ratio(groups, group, prefix, phase):
    for name, results in groups.get(group, ((), ()))[1]:
        if name.startswith(prefix) and phase in results:
            return results[phase].ratio()
    return None


def _suite_ratios(groups, phase):
    return [r[phase].ratio() for _, r in groups.get(SUITE, ((), ()))[1] if phase in r]


def _worst(ratios):
    rated = [r for r in ratios if r is not None]
    return max(rated) if rated else None


def check(groups, memory_ratio):
    """[(target, limit, measured ratio or None)] for the targets this run covers."""
    rows = []
    if SUITE in groups:
        for ph in (FWD, BWD):
            ratios = _suite_ratios(groups, ph)
            rows.append((f'reference suite, every case ({ph})', 2.0, _worst(ratios)))
            rows.append((f'reference suite, geometric mean ({ph})', 1.0, geomean(ratios)))
    over = cases_overhead.GROUP
    for prefix, label, limit in (('mul 4x4', 'per-op overhead (one elementwise op, 4x4, grad on)', 1.5),
                                 ('(a*b + a)', 'small forward+backward graph (3 ops, 4x4)', 1.0)):
        r = _ratio(groups, over, prefix, cases_overhead.TIME)
        if over in groups:
            rows.append((label, limit, r))
    train = cases_training.GROUP
    for prefix, label, limit in (('MLP', 'MLP training step', 1.0), ('CNN', 'CNN training step', 1.5),
                                 ('Transformer', 'transformer training step', 1.5)):
        if train in groups and any(n.startswith(prefix) for n, _ in groups[train][1]):
            rows.append((label, limit, _ratio(groups, train, prefix, cases_training.STEP)))
    if memory_ratio is not False:
        rows.append(('CNN training step peak memory', 1.5, memory_ratio))
    return rows


def table(rows):
    """Markdown table of target checks."""
    out = ['| target | limit | measured | met |', '|---|---|---|---|']
    for label, limit, r in rows:
        met = 'n/a' if r is None else ('yes' if r <= limit else '**no**')
        out.append(f'| {label} | ≤ {limit:g}x | {fmt_ratio(r)} | {met} |')
    return '\n'.join(out)
