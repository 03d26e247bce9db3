"""The shape of the package: import layers, no import cycles, small files,
one atomic file writer."""
import ast
import os
import os.path as osp
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = osp.join(ROOT, 'mmhvc')

# Top to bottom: a package may import the packages below it, never one above.
# mmhvc.utils serves the tools (register_all_modules imports every package
# to fill the registries), so it is at the top.
LAYERS = [
    ('apis', 'utils'),
    ('engine', ),
    ('evaluation', ),
    ('visualization', ),
    ('models', ),
    ('datasets', ),
    ('checkpoint', ),
    ('fileio', ),
    ('registry', 'validation', 'version'),
]
MAX_LINES = 650


def _modules() -> Dict[str, str]:
    """Dotted name -> path of every module of the package."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            parts = osp.relpath(path, ROOT)[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts = parts[:-1]
            modules['.'.join(parts)] = path
    return modules


def _imported(name: str, path: str) -> Iterator[str]:
    """Absolute names of every mmhvc module imported anywhere in a file,
    inside functions included."""
    package = name.split('.') if path.endswith('__init__.py') else \
        name.split('.')[:-1]
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package[:len(package) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            yield base
            yield from (f'{base}.{alias.name}' for alias in node.names)


def _graph() -> Dict[str, Set[str]]:
    """Module -> the mmhvc modules it imports."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for target in _imported(name, path):
            while target and target not in modules:
                target = target.rpartition('.')[0]
            if target and target != name and target != 'mmhvc':
                targets.add(target)
        graph[name] = targets
    return graph


def _layer(module: str) -> int:
    top = module.split('.')[1]
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f'{module}: package "{top}" has no layer in '
                         'LAYERS; add it')


def test_every_package_has_a_layer():
    for module in _modules():
        if module != 'mmhvc':
            _layer(module)


def test_imports_go_down_the_layers():
    upward: List[Tuple[str, str]] = []
    for module, targets in _graph().items():
        if module == 'mmhvc':
            continue
        upward += [(module, target) for target in sorted(targets)
                   if _layer(target) < _layer(module)]
    assert not upward, 'imports of a higher layer: ' + ', '.join(
        f'{a} -> {b}' for a, b in upward)


def _cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import cycle of ``graph`` (module names), or []."""
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_cycle_finder_finds_a_cycle():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}
    assert _cycle(graph) == ['a', 'b', 'c', 'a']
    assert _cycle({'a': {'b'}, 'b': set()}) == []


def test_no_import_cycle():
    cycle = _cycle(_graph())
    assert not cycle, 'import cycle: ' + ' -> '.join(cycle)


@pytest.mark.parametrize('module', sorted(_modules()))
def test_files_are_small(module):
    with open(_modules()[module], encoding='utf-8') as f:
        lines = sum(1 for _ in f)
    assert lines <= MAX_LINES, f'{module} has {lines} lines'


def test_one_function_renames_files_into_place():
    renames = []
    for module, path in _modules().items():
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and \
                    isinstance(node.value, ast.Name) and \
                    node.value.id == 'os' and \
                    node.attr in ('replace', 'rename', 'renames'):
                renames.append(module)
    assert renames == ['mmhvc.fileio.atomic']
