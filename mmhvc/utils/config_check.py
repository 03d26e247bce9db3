"""Clear errors for misspelt config keys and component types.

MMEngine reports a misspelt ``type`` as ``'X is not in the mmhvc::model
registry'`` and a misspelt argument as ``C.__init__() got an unexpected
keyword argument 'k'``, without saying where in the config the value is or
what was meant; a misspelt top-level key (``optim_wraper``) is silently
ignored by the Runner. The helpers here find the config path of the bad
value and the nearest valid names.
"""
import difflib
import inspect
import os.path as osp
import re
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import Registry

_NOT_REGISTERED = re.compile(
    r'(?P<name>[^\s\'"`]+) is not in the (?P<scope>[\w.-]+)::'
    r'(?P<registry>[\w ]+?) registry')
_UNEXPECTED_ARGUMENT = re.compile(
    r'(?P<owner>\w+)(?:\.__init__)?\(\) got an unexpected keyword '
    r"argument '(?P<key>\w+)'")

# Top-level keys that MMEngine's Runner.from_cfg reads besides the
# arguments of Runner.__init__.
_EXTRA_RUNNER_KEYS = ('model_wrapper_cfg', 'compile', 'runner_type',
                      'gpu_ids')


def nearest(name: str, candidates: Iterable[str], n: int = 3,
            cutoff: float = 0.6) -> List[str]:
    """The candidates closest to ``name`` (case-insensitive), best first."""
    by_lower = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(
        name.lower(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[match] for match in matches]


def runner_keys() -> List[str]:
    """The top-level config keys that MMEngine's Runner uses."""
    from mmengine.runner import Runner
    params = inspect.signature(Runner.__init__).parameters
    return sorted(set(params) - {'self', 'cfg'} | set(_EXTRA_RUNNER_KEYS))


def check_top_level_keys(cfg: Config,
                         option_keys: Sequence[str] = ()) -> None:
    """Refuse top-level keys that look like misspelt Runner keys.

    Args:
        cfg: The config as read from the file, before ``--cfg-options``
            are merged.
        option_keys: The dotted keys given with ``--cfg-options``.

    Raises:
        KeyError: A top-level key of the file is not a Runner key but close
            to one (``optim_wraper``); or an option sets a top-level key
            that is neither in the config nor a Runner key (the Runner
            would ignore it). The message names the key and the nearest
            valid ones.
    """
    known = runner_keys()
    present = list(cfg.keys())
    for key in present:
        close = nearest(key, known, cutoff=0.85)
        if key not in known and close:
            raise KeyError(
                f'config key "{key}" is not used by the Runner; did you '
                f'mean "{close[0]}"?')
    for option in option_keys:
        top = option.split('.')[0]
        if top in present or top in known:
            continue
        close = nearest(top, present + known)
        hint = f'; did you mean {_quoted(close)}?' if close else ''
        raise KeyError(f'--cfg-options {option}: the config has no key '
                       f'"{top}" and the Runner does not use one{hint}')


def load_tool_config(path: str,
                     launcher: str = 'none',
                     cfg_options: Optional[dict] = None,
                     work_dir: Optional[str] = None) -> Config:
    """Read a config as tools/train.py and tools/test.py do.

    Unknown top-level keys (in the file or in ``cfg_options``) are refused,
    the overrides are merged, and ``work_dir`` is set from the argument, the
    config, or ``./work_dirs/<config name>``, in that order.
    """
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    check_top_level_keys(cfg, list(cfg_options or {}))
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def explain_build_error(error: BaseException,
                        cfg: Optional[Config] = None) -> Optional[str]:
    """A clearer message for a registry or argument error while building.

    Args:
        error: The exception raised while the Runner built its components.
        cfg: The config, to locate the bad value.

    Returns:
        The original message followed by where the value is in the config
        and the nearest valid names, or None when ``error`` is neither an
        unregistered type nor an unexpected argument.
    """
    message = str(error.args[0]) if error.args else str(error)
    missing = _NOT_REGISTERED.search(message)
    if missing:
        return _explain_unregistered(message, missing, cfg)
    unexpected = _UNEXPECTED_ARGUMENT.search(message)
    if unexpected:
        return _explain_unexpected(message, unexpected, cfg)
    return None


def _explain_unregistered(message: str, match: re.Match,
                          cfg: Optional[Config]) -> str:
    name = match.group('name')
    registry = _find_registry(match.group('scope'), match.group('registry'))
    where = [f'{path}.type' for path, node in _walk(cfg)
             if node.get('type') == name]
    parts = [message.rstrip('.') + '.']
    if where:
        parts.append(f'It is set at {_quoted(where)} in the config.')
    if registry is not None:
        close = nearest(name, _registered_names(registry), n=5)
        if close:
            parts.append(f'Did you mean {_quoted(close)}?')
    return ' '.join(parts)


def _explain_unexpected(message: str, match: re.Match,
                        cfg: Optional[Config]) -> str:
    component, key = match.group('owner'), match.group('key')
    holders = [(path, node) for path, node in _walk(cfg) if key in node]
    typed = [(path, node) for path, node in holders
             if node.get('type') in (None, component)]
    where = [f'{path}.{key}' if path else key for path, _ in typed or holders]
    parts = [f'{component} has no argument "{key}"']
    if where:
        parts[0] += f' (set at {_quoted(where)} in the config)'
    parts[0] += '.'
    accepted = _init_arguments(component)
    if accepted:
        close = nearest(key, accepted)
        if close:
            parts.append(f'Did you mean {_quoted(close)}?')
        parts.append(f'{component} accepts: {", ".join(accepted)}.')
    parts.append(f'({message})')
    return ' '.join(parts)


def _quoted(names: Sequence[str]) -> str:
    return ' or '.join(f'"{name}"' for name in names)


def _walk(node: Any, path: str = '') -> Iterator[Tuple[str, dict]]:
    """Every dict of a config with its dotted path (list items by index)."""
    if isinstance(node, Config):
        node = node.to_dict()
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _walk(value, f'{path}.{index}')


def _all_registries() -> Iterator[Registry]:
    """Every root registry of MMEngine and all their descendants."""
    import mmengine.registry as roots
    stack = [
        value for value in vars(roots).values()
        if isinstance(value, Registry) and value.parent is None
    ]
    seen = set()
    while stack:
        registry = stack.pop()
        if id(registry) in seen:
            continue
        seen.add(id(registry))
        yield registry
        stack.extend(registry.children.values())


def _find_registry(scope: str, name: str) -> Optional[Registry]:
    for registry in _all_registries():
        if registry.scope == scope and registry.name == name:
            return registry
    return None


def _registered_names(registry: Registry) -> List[str]:
    """Names ``registry.get`` resolves: its own and its ancestors', and
    those of other scopes with their ``scope.`` prefix."""
    names, chain = [], []
    node = registry
    while node is not None:
        chain.append(node)
        names.extend(node.module_dict)
        node = node.parent
    stack = list(chain[-1].children.values())
    while stack:
        other = stack.pop()
        stack.extend(other.children.values())
        if other not in chain:
            names.extend(f'{other.scope}.{name}' for name in other.module_dict)
    return names


def _init_arguments(component: str) -> List[str]:
    """Keyword arguments of the registered class named ``component``."""
    for registry in _all_registries():
        cls = registry.module_dict.get(component)
        if inspect.isclass(cls):
            params = inspect.signature(cls.__init__).parameters.values()
            return [
                p.name for p in params if p.name != 'self' and p.kind in (
                    p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            ]
    return []
