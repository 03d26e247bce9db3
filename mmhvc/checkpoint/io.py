"""Loading MMEngine checkpoints under torch's ``weights_only`` default.

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
"""
import pickle
from typing import Any, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


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
