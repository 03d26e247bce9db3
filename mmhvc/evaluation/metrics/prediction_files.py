"""Writing predicted label maps as indexed PNGs, one file per frame."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from mmhvc.datasets.palette import write_indexed_png


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
