"""Reading the fields of video samples, shared by the metrics.

A video sample is what a propagation model returns for one sequence: a
``BaseDataElement`` (or the dict MMEngine's evaluator makes of it) with the
metainfo of the dataset (``seq_name``, ``frame_names``, ``given_frames``,
``palette``, ...) and per-frame arrays such as the ``(T, H, W)`` label maps
``pred_masks`` and ``gt_masks`` or the ``(T, J, 2)`` ``pred_keypoints``.
"""
from typing import Any, List

import numpy as np
import torch
from mmengine.structures import BaseDataElement


def sample_to_dict(sample: Any) -> dict:
    """Return a sample as a flat dict of its metainfo and data fields."""
    if isinstance(sample, BaseDataElement):
        return sample.to_dict()
    if isinstance(sample, dict):
        return sample
    raise TypeError('a data sample must be a BaseDataElement or a dict, got '
                    f'{type(sample).__name__}')


def get_meta(sample: dict, key: str) -> Any:
    """Fetch a metainfo key, naming the key and the sequence when missing."""
    if key not in sample:
        raise KeyError(f'data sample of sequence '
                       f'{sample.get("seq_name", "<unknown>")!r} has no '
                       f'{key!r} in its metainfo')
    return sample[key]


def _as_array(sample: dict, key: str) -> np.ndarray:
    """Fetch a data field as a numpy array.

    Tensors (on any device) and the ``{'data': ...}`` dicts that
    ``BaseDataElement.to_dict`` makes of pixel data are unwrapped.
    """
    value = get_meta(sample, key)
    if isinstance(value, dict) and 'data' in value:
        value = value['data']
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def get_array(sample: dict, key: str, ndim: int) -> np.ndarray:
    """Fetch a data field as a numpy array with ``ndim`` dimensions.

    Args:
        sample: The sample, see :func:`sample_to_dict`.
        key: Field name, e.g. ``'pred_keypoints'``.
        ndim: The number of dimensions the field must have.

    Returns:
        The field as a numpy array, dtype unchanged.

    Raises:
        KeyError: The sample has no such field.
        ValueError: The field has another number of dimensions.
    """
    value = _as_array(sample, key)
    if value.ndim != ndim:
        raise ValueError(
            f'{key!r} of video {sample.get("seq_name", "<unknown>")!r} must '
            f'have {ndim} dimensions, got shape {value.shape}')
    return value


def get_label_maps(sample: dict, key: str) -> np.ndarray:
    """Fetch a ``(T, H, W)`` label map field as an integer numpy array.

    Args:
        sample: The sample, see :func:`sample_to_dict`.
        key: Field name, e.g. ``'pred_masks'`` or ``'gt_masks'``.

    Returns:
        ``(T, H, W)`` label maps (object or class ids, 0 background).

    Raises:
        KeyError: The sample has no such field.
        ValueError: The field is not a 3-D integer array.
    """
    value = _as_array(sample, key)
    if value.ndim != 3 or not np.issubdtype(value.dtype, np.integer):
        raise ValueError(
            f'{key!r} of sequence {sample.get("seq_name", "<unknown>")!r} '
            'must be (T, H, W) integer label maps, got shape '
            f'{value.shape} and dtype {value.dtype}')
    return value


def scored_frames(sample: dict, num_frames: int,
                  score_given_frames: bool) -> List[int]:
    """Indices of the frames of a sequence that a metric scores.

    Args:
        sample: The sample; its ``given_frames`` metainfo (indices of the
            frames whose labels were given) is read unless every frame is
            scored.
        num_frames: The number T of frames.
        score_given_frames: Score the given frames too.

    Returns:
        The scored frame indices, ascending.
    """
    if score_given_frames:
        return list(range(num_frames))
    given = {int(t) for t in get_meta(sample, 'given_frames')}
    return [t for t in range(num_frames) if t not in given]
