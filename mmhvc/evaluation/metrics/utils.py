"""Reading video samples and writing their label maps, shared by the metrics.

A video sample is what the propagation model returns for one sequence: a
``BaseDataElement`` (or the dict MMEngine's evaluator makes of it) with the
metainfo of the dataset (``seq_name``, ``frame_names``, ``palette``, ...) and
``(T, H, W)`` label maps such as ``pred_masks`` and ``gt_masks``.
"""
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

import numpy as np
import torch
from mmengine.structures import BaseDataElement

from mmhvc.datasets.palette import write_indexed_png


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


def get_label_maps(sample: dict, key: str) -> np.ndarray:
    """Fetch a ``(T, H, W)`` label map field as an integer numpy array.

    Args:
        sample (dict): The sample, see :func:`sample_to_dict`.
        key (str): Field name, e.g. ``'pred_masks'`` or ``'gt_masks'``.

    Returns:
        np.ndarray: ``(T, H, W)`` label maps (object ids, 0 background).
    """
    value = get_meta(sample, key)
    if isinstance(value, dict) and 'data' in value:
        value = value['data']
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    if value.ndim != 3 or not np.issubdtype(value.dtype, np.integer):
        raise ValueError(
            f'{key!r} of sequence {sample.get("seq_name", "<unknown>")!r} '
            'must be (T, H, W) integer label maps, got shape '
            f'{value.shape} and dtype {value.dtype}')
    return value


def save_label_maps(out_dir: str,
                    label_maps: np.ndarray,
                    frame_names: Sequence[str],
                    frame_indices: Sequence[int],
                    palette: Optional[np.ndarray] = None) -> None:
    """Write selected frames as indexed PNGs ``<out_dir>/<frame>.png``.

    Args:
        out_dir (str): Directory of the sequence; created when missing.
        label_maps (np.ndarray): ``(T, H, W)`` label maps with ids < 256.
        frame_names (Sequence[str]): The T file stems of the frames.
        frame_indices (Sequence[int]): Indices of the frames to write.
        palette (np.ndarray, optional): ``(N <= 256, 3)`` uint8 RGB palette;
            the DAVIS palette when None.
    """
    if len(frame_names) != label_maps.shape[0]:
        raise ValueError(f'{len(frame_names)} frame names for '
                         f'{label_maps.shape[0]} label maps in {out_dir}')
    if label_maps.size and int(label_maps.max()) > 255:
        raise ValueError(f'label maps for {out_dir} hold ids above 255, '
                         'which an indexed PNG cannot store')
    os.makedirs(out_dir, exist_ok=True)
    for index in frame_indices:
        write_indexed_png(
            osp.join(out_dir, f'{frame_names[index]}.png'),
            label_maps[index].astype(np.uint8), palette)


@contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; move it there on success.

    Readers never see a half-written ``path``: the file appears by an atomic
    rename once the ``with`` block has finished, and the temporary file is
    removed when the block raises.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        dir=directory, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    os.close(fd)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
