"""Loading MMEngine checkpoints under torch's ``weights_only`` default.

Since torch 2.6, ``torch.load`` unpickles only allow-listed types unless
``weights_only=False`` is passed, and MMEngine 0.10.x calls it without that
argument. A Runner checkpoint holds, besides tensors, the message hub's
``HistoryBuffer`` objects and the numpy arrays and scalars inside them. This
module allow-lists exactly those types, so trusted checkpoints written by the
Runner load (``load_from``, ``--resume``), while every other type is still
refused by torch's safe unpickler.
"""
from typing import List

import numpy as np
import torch


def _numpy_globals() -> List[object]:
    """The numpy callables and classes that pickled arrays and scalars use."""
    multiarray = getattr(np, '_core', None) or np.core
    names = [multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
             np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes as instances of per-type dtype classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        names.extend(
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType'))
    return names


def checkpoint_safe_globals() -> List[object]:
    """The non-tensor types that an MMEngine Runner checkpoint contains."""
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer] + _numpy_globals()


def register_checkpoint_safe_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load``.

    A no-op on torch versions without ``torch.serialization.add_safe_globals``
    (< 2.4), which load with ``weights_only=False`` by default.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(checkpoint_safe_globals())
