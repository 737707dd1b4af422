"""Generate DOCS.md, the API reference, from the docstrings of tensorgrad.

Usage: ``python scripts/gen_docs.py [--check] [--output DOCS.md]``
(``--check`` exits 1 when the file is out of date instead of writing it;
tests/test_docs.py runs the same comparison).
"""
import argparse
import importlib
import inspect
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

HEADER = """# tensorgrad API reference
*Generated from the docstrings by `python scripts/gen_docs.py`; do not edit by hand.*

`tensorgrad` mirrors PyTorch: `tensorgrad.tensor` (the Tensor class and the
functions on tensors), `tensorgrad.nn` (modules, `functional`, `init`, `utils`),
`tensorgrad.optim` (optimisers and `lr_scheduler`), `tensorgrad.ctx` (grad mode,
devices), `tensorgrad.autograd`, `tensorgrad.utils.data` (datasets and loaders)
and graph rendering (`Tensor.render`).
"""

# the sections: (title, module name, what to document, intro override)
SECTIONS = (
    ('tensorgrad.tensor', 'tensorgrad', 'tensor', None),
    ('tensorgrad (functions)', 'tensorgrad', 'functions',
     'Functions on tensors, factories and utilities at the top level of the package '
     '(most are also Tensor methods).'),
    ('tensorgrad.nn', 'tensorgrad.nn', 'classes', None),
    ('tensorgrad.nn.functional', 'tensorgrad.nn.functional', 'functions', None),
    ('tensorgrad.nn.init', 'tensorgrad.nn.init', 'functions', None),
    ('tensorgrad.nn.utils', 'tensorgrad.nn.utils', 'functions', None),
    ('tensorgrad.optim', 'tensorgrad.optim', 'classes', None),
    ('tensorgrad.optim.lr_scheduler', 'tensorgrad.optim.lr_scheduler', 'classes', None),
    ('tensorgrad.ctx', 'tensorgrad.ctx', 'functions', None),
    ('tensorgrad.autograd', 'tensorgrad.autograd', 'all', None),
    ('tensorgrad.utils.data', 'tensorgrad.utils.data', 'classes', None),
    ('tensorgrad.utils.data.mnist', 'tensorgrad.utils.data.mnist', 'all', None),
    ('tensorgrad.render', 'tensorgrad.render', 'functions', None),
    ('tensorgrad.serialization', 'tensorgrad.serialization', 'functions', None),
)

# modules imported before anything is documented, so that methods they bind
# onto Tensor are always present (the output must not depend on import order)
PRELOAD = ('tensorgrad', 'tensorgrad.nn', 'tensorgrad.nn.functional', 'tensorgrad.nn.init', 'tensorgrad.nn.utils',
           'tensorgrad.optim', 'tensorgrad.optim.lr_scheduler', 'tensorgrad.utils.data',
           'tensorgrad.utils.data.mnist', 'tensorgrad.render', 'tensorgrad.serialization', 'tensorgrad.autograd',
           'tensorgrad.ctx')

# Tensor dunders worth a line (operators and protocols people use)
TENSOR_DUNDERS = {
    '__init__', '__add__', '__radd__', '__sub__', '__rsub__', '__mul__', '__rmul__', '__truediv__',
    '__rtruediv__', '__pow__', '__rpow__', '__matmul__', '__rmatmul__', '__neg__', '__invert__', '__abs__',
    '__getitem__', '__setitem__', '__eq__', '__ne__', '__lt__', '__le__', '__gt__', '__ge__', '__and__',
    '__or__', '__xor__', '__len__', '__iter__', '__bool__', '__float__', '__int__', '__index__',
    '__iadd__', '__isub__', '__imul__', '__itruediv__',
}

_ADDRESS = re.compile(r' at 0x[0-9a-fA-F]+')


def _doc(obj):
    doc = inspect.getdoc(obj)
    return doc.strip() if doc else ''


def _signature(obj, drop_first=False):
    """``(params)`` of a callable without addresses in default reprs, or None."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if drop_first and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    text = str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    return _ADDRESS.sub('', text)


def _entry(name, obj, drop_first=False, kind=None, aliases=None):
    lines = [f'## `{name}`']
    if kind:
        lines.append(f'*{kind}*  ')
    if aliases and _hashable(obj) and obj in aliases and aliases[obj] != name:
        lines.append(f'Alias of `{aliases[obj]}`.')
        return '\n'.join(lines)
    doc = _doc(obj)
    if doc:
        lines.append(doc)
    if kind != 'property':
        sig = _signature(obj, drop_first)
        if sig is not None:
            lines.append(f'\n**Signature:** `{name}{sig}`')
    return '\n'.join(lines)


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _own_public_names(module):
    """Public names a module documents: ``__all__`` or what it defines or re-exports from tensorgrad."""
    names = getattr(module, '__all__', None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith('_')]
    out = []
    for n in names:
        obj = getattr(module, n, None)
        if obj is None or inspect.ismodule(obj):
            continue
        if not (inspect.isclass(obj) or callable(obj)):
            continue
        if not getattr(obj, '__module__', '') or not str(getattr(obj, '__module__', '')).startswith('tensorgrad'):
            continue
        out.append(n)
    return sorted(set(out), key=lambda s: (s.lower(), s))


def _alias_table(objects):
    """Map each object listed under several names (``objects``: name -> object) to
    its canonical name: its ``__name__`` when listed, else the first plain name."""
    groups = {}
    for n, obj in objects.items():
        try:
            groups.setdefault(obj, []).append(n)
        except TypeError:  # unhashable
            continue
    canonical = {}
    for obj, names in groups.items():
        if len(names) > 1:
            own = getattr(obj, '__name__', None)
            plain = sorted((n for n in names if not n.startswith('_')), key=str.lower) or sorted(names)
            canonical[obj] = own if own in names else plain[0]
    return canonical


def _class_entry(name, cls, methods=False):
    parts = [_entry(name, cls, kind='class')]
    if methods:
        for m in sorted(vars(cls)):
            if m.startswith('_'):
                continue
            attr = vars(cls)[m]
            if isinstance(attr, property):
                parts.append(_entry(f'{name}.{m}', attr, kind='property'))
            elif isinstance(attr, (classmethod, staticmethod)):
                parts.append(_entry(f'{name}.{m}', getattr(cls, m), kind=type(attr).__name__))
            elif inspect.isfunction(attr):
                parts.append(_entry(f'{name}.{m}', attr, drop_first=True))
    return '\n\n'.join(parts)


def _tensor_section():
    from tensorgrad import Tensor  # noqa: PLC0415
    names = [n for n in sorted(dir(Tensor), key=lambda s: (s.strip('_').lower(), s))
             if not n.startswith('_') or n in TENSOR_DUNDERS]
    raws = {n: inspect.getattr_static(Tensor, n) for n in names}
    aliases = _alias_table({n: getattr(r, 'fn', r) for n, r in raws.items()
                            if not isinstance(r, (property, classmethod, staticmethod))})
    parts = []
    for name in names:
        raw = raws[name]
        if name == '__init__':  # the documented constructor is tensorgrad.tensor's; Tensor() is torch's
            import tensorgrad  # noqa: PLC0415
            parts.append(_entry(name, tensorgrad.tensor.__init__, drop_first=True))
            parts.append(_entry('Tensor.__init__', raw, drop_first=True))
            continue
        if isinstance(raw, property):
            parts.append(_entry(name, raw, kind='property'))
        elif isinstance(raw, classmethod):
            parts.append(_entry(name, getattr(Tensor, name), kind='classmethod'))
        elif isinstance(raw, staticmethod):
            parts.append(_entry(name, getattr(Tensor, name), kind='staticmethod'))
        elif callable(raw) or hasattr(raw, '__get__'):
            fn = getattr(raw, 'fn', raw)  # a hybrid (class- and instance-) method wraps a function
            parts.append(_entry(name, fn, drop_first=not hasattr(raw, 'fn'), aliases=aliases))
    return parts


def _section(title, module_name, what, intro):
    module = importlib.import_module(module_name)
    lines = [f'# `{title}`' if ' ' not in title else f'# {title}']
    if what == 'tensor':
        from tensorgrad import Tensor  # noqa: PLC0415
        lines.append(_doc(Tensor))
        return '\n'.join(lines) + '\n\n' + '\n\n'.join(_tensor_section())
    lines.append(intro if intro is not None else _doc(module))
    names = _own_public_names(module)
    if what == 'functions':
        names = [n for n in names if not inspect.isclass(getattr(module, n))]
    elif what == 'classes':
        names = [n for n in names if inspect.isclass(getattr(module, n))] + \
                [n for n in names if not inspect.isclass(getattr(module, n))]
    aliases = _alias_table({n: getattr(module, n) for n in names})
    parts = []
    for n in names:
        obj = getattr(module, n)
        if inspect.isclass(obj) and aliases.get(obj, n) == n:
            # base classes whose methods users call get their methods listed
            with_methods = n in ('Module', 'Optimizer', 'LRScheduler', 'DataLoader', 'Function') or \
                module_name == 'tensorgrad.autograd'
            parts.append(_class_entry(n, obj, methods=with_methods))
        else:
            parts.append(_entry(n, obj, aliases=aliases))
    return '\n'.join(lines) + ('\n\n' + '\n\n'.join(parts) if parts else '')


def generate():
    """The text of DOCS.md."""
    for name in PRELOAD:
        importlib.import_module(name)
    toc = ['## Contents'] + [f'- [`{t}`](#{_anchor(t)})' if ' ' not in t else f'- [{t}](#{_anchor(t)})'
                             for t, *_ in SECTIONS]
    body = [_section(*s) for s in SECTIONS]
    text = '\n\n'.join([HEADER.rstrip(), '\n'.join(toc)] + body) + '\n'
    return re.sub(r'[ \t]+\n', lambda m: '  \n' if m.group(0).startswith('  ') else '\n', text)


def _anchor(title):
    return re.sub(r'[^a-z0-9 _-]', '', title.lower()).replace(' ', '-')


def main(argv=None):
    """Write DOCS.md (or check that it is up to date with ``--check``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--output', default=os.path.join(ROOT, 'DOCS.md'))
    p.add_argument('--check', action='store_true', help='exit 1 if the file differs from the docstrings')
    args = p.parse_args(argv)
    text = generate()
    if args.check:
        try:
            with open(args.output, encoding='utf-8') as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f'{args.output} is out of date: run python scripts/gen_docs.py', file=sys.stderr)
            return 1
        print(f'{args.output} is up to date')
        return 0
    with open(args.output, 'w', encoding='utf-8') as f:
        f.write(text)
    print(f'wrote {args.output} ({len(text.splitlines())} lines)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
