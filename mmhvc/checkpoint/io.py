"""Reading and writing checkpoint files under torch's ``weights_only`` default.

Since torch 2.6, ``torch.load`` unpickles only allow-listed globals unless
``weights_only=False`` is passed, and MMEngine 0.10.x calls it without that
argument. A Runner checkpoint holds, besides tensors, the message hub's
``HistoryBuffer`` objects, the numpy arrays and scalars inside them, and the
buffers' statistics methods, which pickle refers to as
``getattr(HistoryBuffer, name)``. This module allow-lists exactly those: the
buffer class, the numpy reconstructors, and in place of the builtin
``getattr`` a restricted one that only returns registered statistics methods
of ``HistoryBuffer``. Trusted checkpoints written by the Runner load
(``load_from``, ``--resume``); every other global is still refused.

:func:`load_checkpoint_file` loads any checkpoint the tools accept on the
CPU, :func:`find_state_dict` finds the state dict inside it, and
:func:`save_checkpoint_atomic` writes one that is either absent or complete.
"""
import hashlib
import io
import os.path as osp
import pickle
from argparse import Namespace
from typing import Any, Dict, List, Mapping, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from mmhvc.fileio import atomic_torch_save, atomic_write_bytes

STATE_DICT_CONTAINERS = ('state_dict', 'model')


class CheckpointConversionError(ValueError):
    """A checkpoint does not have the layout a conversion expects."""


def _numpy_globals() -> List[Any]:
    """The numpy callables and classes that pickled arrays and scalars use."""
    multiarray = getattr(np, '_core', None) or np.core
    names = [
        multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
        np.ndarray, np.dtype
    ]
    # numpy >= 1.25 pickles dtypes as instances of per-type dtype classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        names.extend(
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType'))
    return names


# HistoryBuffer registers these in its first instance's constructor, so a
# fresh process that loads a checkpoint may not have them in its registry yet.
_BUILTIN_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to the statistics methods of ``HistoryBuffer``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    allowed = _BUILTIN_STATISTICS | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistics methods are allowed')


def checkpoint_safe_globals() -> List[Union[Any, Tuple[Any, str]]]:
    """The non-tensor globals that an MMEngine Runner checkpoint contains."""
    return [HistoryBuffer, (history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


def register_checkpoint_safe_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load``.

    A no-op on torch versions without ``torch.serialization.add_safe_globals``
    (< 2.4), which load with ``weights_only=False`` by default.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(checkpoint_safe_globals())


def load_checkpoint_file(path: str, trust_pickle: bool = False) -> Any:
    """Load a checkpoint on the CPU.

    By default only tensors, containers, the types of an MMEngine Runner
    checkpoint (:func:`checkpoint_safe_globals`) and ``argparse.Namespace``
    (the ``args`` entry of official HVC checkpoints) are unpickled (on torch
    >= 2.5; older versions cannot restrict unpickling).

    Args:
        path: Checkpoint file.
        trust_pickle: Unpickle arbitrary objects (``weights_only=False``);
            only for files from a trusted source.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointConversionError: The file is not a torch checkpoint, or
            it holds other objects and ``trust_pickle`` is False.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    # torch < 2.5 cannot allow-list types; it unpickles everything by default.
    safe_globals = getattr(torch.serialization, 'safe_globals', None)
    try:
        if trust_pickle or safe_globals is None:
            return torch.load(path, map_location='cpu', weights_only=False)
        register_checkpoint_safe_globals()
        with safe_globals([Namespace]):
            return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        hint = '' if trust_pickle else (
            ' If it holds other Python objects and comes from a source you '
            'trust, pass --trust-pickle to unpickle them.')
        raise CheckpointConversionError(
            f'Could not load the checkpoint {path}: {e}.{hint}') from e


def find_state_dict(checkpoint: Any,
                    source: str = 'checkpoint') -> Tuple[Dict[str, Any], str]:
    """The state dict inside a loaded checkpoint.

    Args:
        checkpoint: A loaded checkpoint: a state dict itself, or a dict
            holding one under ``state_dict`` (MMEngine) or ``model``
            (official HVC).
        source: Name of the checkpoint (e.g. its path) for error messages.

    Returns:
        ``(state_dict, container)`` with ``container`` the key it was found
        under, or ``''`` when the checkpoint is the state dict.
    """
    if not isinstance(checkpoint, Mapping):
        raise CheckpointConversionError(
            f'{source}: expected a dict, got {type(checkpoint).__name__}.')
    for container in STATE_DICT_CONTAINERS:
        if isinstance(checkpoint.get(container), Mapping):
            return dict(checkpoint[container]), container
    if checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return dict(checkpoint), ''
    raise CheckpointConversionError(
        f'{source}: no state dict found: neither a dict of tensors nor a dict '
        f'with one of {list(STATE_DICT_CONTAINERS)}; top-level keys: '
        f'{sorted(map(str, checkpoint))[:20]}.')


def save_checkpoint_atomic(obj: Any,
                           path: str,
                           hash_suffix: bool = False) -> str:
    """``torch.save`` ``obj`` so that the output is either absent or complete.

    Args:
        obj: What to save.
        path: Output file.
        hash_suffix: Name the file ``<stem>-<sha8>.pth`` (OpenMMLab release
            naming): the first 8 hexadecimal digits of the file's sha256
            are inserted before the ``.pth`` extension (which is appended to
            ``path`` when absent).

    Returns:
        The path of the written file.
    """
    if not hash_suffix:
        atomic_torch_save(obj, path)
        return path
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    stem = path[:-len('.pth')] if path.endswith('.pth') else path
    path = f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth'
    atomic_write_bytes(path, data)
    return path
