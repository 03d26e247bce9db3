"""Predicted label maps as indexed PNGs, one file per frame: writing them
and reading them back."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from mmhvc.datasets.palette import read_annotation_image, write_indexed_png


def save_label_maps(out_dir: str,
                    label_maps: np.ndarray,
                    frame_names: Sequence[str],
                    frame_indices: Sequence[int],
                    palette: Optional[np.ndarray] = None) -> None:
    """Write selected frames as indexed PNGs ``<out_dir>/<frame>.png``.

    Each file is written atomically (see
    :func:`mmhvc.datasets.palette.write_indexed_png`).

    Args:
        out_dir: Directory of the sequence; created when missing.
        label_maps: ``(T, H, W)`` label maps with ids < 256.
        frame_names: The T file stems of the frames.
        frame_indices: Indices of the frames to write.
        palette: ``(N <= 256, 3)`` uint8 RGB palette; the DAVIS palette when
            None.
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


def read_label_maps(folder: str, frame_names: Sequence[str]) -> np.ndarray:
    """Read the indexed PNGs ``<folder>/<frame>.png`` of the named frames.

    Args:
        folder: The sequence's results folder.
        frame_names: The stems of the frames to read, in order.

    Returns:
        ``(T, H, W)`` uint8 label maps: the palette indices of indexed
        PNGs, the values of single-channel ones.

    Raises:
        FileNotFoundError: Frames have no file; the message names the
            first missing ones.
        ValueError: A file is neither an indexed nor a single-channel
            PNG, or the sizes differ.
    """
    paths = [osp.join(folder, f'{name}.png') for name in frame_names]
    missing = [path for path in paths if not osp.isfile(path)]
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} of the {len(paths)} result masks are missing, '
            f'e.g. {", ".join(missing[:3])}')
    maps = []
    for path in paths:
        image = read_annotation_image(path)
        if image.mode not in ('P', 'L'):
            raise ValueError(
                f'result mask {path} is a "{image.mode}" mode image; masks '
                'are indexed ("P") or single-channel ("L") PNGs of object '
                'ids')
        maps.append(np.asarray(image, dtype=np.uint8))
    sizes = {m.shape for m in maps}
    if len(sizes) > 1:
        raise ValueError(f'the result masks in {folder} differ in size: '
                         f'{sorted(sizes)}')
    return np.stack(maps)
