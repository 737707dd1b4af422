"""The project's speed and memory targets (issue 14), checked against a run's results."""
from . import cases_layers, cases_models, cases_overhead, cases_suite, cases_training
from .case import BWD, FWD
from .report import fmt_ratio, geomean

SUITE = cases_suite.GROUP
LAYERS = cases_layers.GROUP
EVERY_CASE, SUITE_MEAN, LAYERS_MEAN = 1.5, 0.9, 1.0  # per-case limit of both groups; their geomean limits
STEPS = 1.0        # per-op overhead, small graph, every training step (MLP, CNN, transformer, GPT, ResNet)
INFERENCE = 1.0    # eval-mode forward under no_grad (GPT, ResNet)
MEMORY = 1.2       # steady-state peak RSS increase, every model and mode measured


def _ratio(groups, group, prefix, phase):
    for name, results in groups.get(group, ((), ()))[1]:
        if name.startswith(prefix) and phase in results:
            return results[phase].ratio()
    return None


def _group_ratios(groups, group, phase):
    return [r[phase].ratio() for _, r in groups.get(group, ((), ()))[1] if phase in r]


def _worst(ratios):
    rated = [r for r in ratios if r is not None]
    return max(rated) if rated else None


def _has(groups, group, prefix):
    return group in groups and any(n.startswith(prefix) for n, _ in groups[group][1])


def check(groups, memory_ratio):
    """[(target, limit, measured ratio or None)] for the targets this run covers.

    ``memory_ratio``: False (not measured), one ratio (the CNN training step), or
    {measurement label: ratio or None} (``memory.measure_all`` + ``memory.ratio``)."""
    rows = []
    for group, label, mean_limit in ((SUITE, 'reference suite', SUITE_MEAN), (LAYERS, 'other layers', LAYERS_MEAN)):
        if group in groups:
            for ph in (FWD, BWD):
                ratios = _group_ratios(groups, group, ph)
                rows.append((f'{label}, every case ({ph})', EVERY_CASE, _worst(ratios)))
                rows.append((f'{label}, geometric mean ({ph})', mean_limit, geomean(ratios)))
    over = cases_overhead.GROUP
    for prefix, label in (('mul 4x4', 'per-op overhead (one elementwise op, 4x4, grad on)'),
                          ('(a*b + a)', 'small forward+backward graph (3 ops, 4x4)')):
        if over in groups:
            rows.append((label, STEPS, _ratio(groups, over, prefix, cases_overhead.TIME)))
    train, step = cases_training.GROUP, cases_training.STEP
    for prefix, label in (('MLP', 'MLP training step'), ('CNN', 'CNN training step'),
                          ('Transformer', 'transformer training step')):
        if _has(groups, train, prefix):
            rows.append((label, STEPS, _ratio(groups, train, prefix, step)))
    for group, kind, limit in ((cases_models.TRAIN, 'training step', STEPS),
                               (cases_models.INFER, 'inference', INFERENCE)):
        for prefix in ('GPT', 'ResNet'):
            if _has(groups, group, prefix):
                rows.append((f'{prefix} {kind} (time)', limit, _ratio(groups, group, prefix,
                                                                       cases_models.PHASES[group])))
    if isinstance(memory_ratio, dict):
        rows += [(f'{name} peak memory', MEMORY, r) for name, r in memory_ratio.items()]
    elif memory_ratio is not False:
        rows.append(('CNN training step peak memory', MEMORY, memory_ratio))
    return rows


def table(rows):
    """Markdown table of target checks."""
    out = ['| target | limit | measured | met |', '|---|---|---|---|']
    for label, limit, r in rows:
        met = 'n/a' if r is None else ('yes' if r <= limit else '**no**')
        out.append(f'| {label} | ≤ {limit:g}x | {fmt_ratio(r)} | {met} |')
    return '\n'.join(out)
