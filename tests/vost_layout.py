"""A tiny generated data set in the VOST layout, for the tests.

Three videos of 16 frames (full rate), 8 of them at 10 fps (every other
full-rate frame), 48 x 64 pixels; every other 10 fps frame is annotated
(indexed PNGs, a void band of 255 across every annotation):

- ``cut``: object 1 is split in two pieces at the fifth 10 fps frame, and
  object 2 (a piece set apart) appears only after the split;
- ``pour``: objects 1 and 2 move from the first frame on;
- ``peel``: object 1 shrinks.
"""
import os
import os.path as osp
from typing import Dict, List

import numpy as np
from PIL import Image

from mmhvc.datasets.palette import write_indexed_png

VIDEOS = ('cut', 'pour', 'peel')
HEIGHT, WIDTH = 48, 64
NUM_FULL_RATE = 16


def full_rate_stems() -> List[str]:
    """The stems of every frame of a video."""
    return [f'{t:05d}' for t in range(NUM_FULL_RATE)]


def stems_10fps() -> List[str]:
    """The stems of the 10 fps frames: every other full-rate frame."""
    return full_rate_stems()[::2]


def annotated_stems() -> List[str]:
    """The stems of the annotated frames: every other 10 fps frame."""
    return stems_10fps()[::2]


def label_map(video: str, t: int) -> np.ndarray:
    """The ``(H, W)`` uint8 label map of full-rate frame ``t``."""
    labels = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    x = 6 + t
    if video == 'cut':
        if t < 8:
            labels[10:26, x:x + 20] = 1
        else:
            labels[10:26, x:x + 8] = 1
            labels[10:26, x + 12:x + 20] = 1
            labels[32:42, 40:52] = 2
    elif video == 'pour':
        labels[8:20, x:x + 12] = 1
        labels[28:40, 50 - t:60 - t] = 2
    else:
        labels[12:36 - t, 10:40 - t] = 1
    labels[22:24, :] = 255
    return labels


def frame_image(video: str, t: int, rng: np.random.Generator) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 frame: noise with each object in its colour."""
    image = rng.integers(0, 80, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    labels = label_map(video, t)
    image[labels == 1] = (200, 60, 60)
    image[labels == 2] = (60, 200, 60)
    return image


def write_vost_layout(root: str, split: str = 'val') -> Dict[str, dict]:
    """Write the videos under ``root`` in the VOST layout.

    Returns:
        Per video: ``labels``, the ``(8, H, W)`` label maps of the 10 fps
        frames, and ``annotated``, the stems of the annotated frames.
    """
    rng = np.random.default_rng(0)
    out = {}
    for video in VIDEOS:
        for t, stem in enumerate(full_rate_stems()):
            image = Image.fromarray(frame_image(video, t, rng))
            folders = ['JPEGImages'] + (['JPEGImages_10fps']
                                        if t % 2 == 0 else [])
            for folder in folders:
                os.makedirs(osp.join(root, folder, video), exist_ok=True)
                image.save(
                    osp.join(root, folder, video, stem + '.jpg'), quality=95)
        for stem in annotated_stems():
            write_indexed_png(
                osp.join(root, 'Annotations', video, stem + '.png'),
                label_map(video, int(stem)))
        out[video] = dict(
            labels=np.stack(
                [label_map(video, int(stem)) for stem in stems_10fps()]),
            annotated=annotated_stems())
    os.makedirs(osp.join(root, 'ImageSets'), exist_ok=True)
    with open(osp.join(root, 'ImageSets', f'{split}.txt'), 'w') as f:
        f.write(''.join(video + '\n' for video in VIDEOS))
    return out
