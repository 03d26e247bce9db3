"""Arranging RGB panels into one picture.

Every function here takes and returns ``np.uint8`` RGB images of shape
``(H, W, 3)``.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmhvc.fileio import check_rgb

#: Background of the gaps between panels and of title bars.
BACKGROUND = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def resize_to_height(image: np.ndarray,
                     height: int,
                     interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resize ``image`` to ``height`` rows, keeping its aspect ratio."""
    h, w = image.shape[:2]
    if h == height:
        return image
    width = max(1, int(round(w * height / h)))
    return cv2.resize(image, (width, height), interpolation=interpolation)


def add_title(
    image: np.ndarray,
    title: str,
    font_scale: float = 0.4,
    color: Tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """Put a one-line title on a white bar above ``image``.

    Text wider than the image is shortened with ``..`` at its end.
    """
    check_rgb(image)
    (_, text_h), baseline = cv2.getTextSize('Ag', _FONT, font_scale, 1)
    bar_h = text_h + baseline + 6
    bar = np.full((bar_h, image.shape[1], 3), BACKGROUND, dtype=np.uint8)
    text = title
    while text and cv2.getTextSize(text, _FONT, font_scale,
                                   1)[0][0] > image.shape[1] - 4:
        text = text[:-3] + '..' if len(text) > 3 else ''
    cv2.putText(bar, text, (2, bar_h - baseline - 3), _FONT, font_scale, color,
                1, cv2.LINE_AA)
    return np.concatenate([bar, image], axis=0)


def hstack(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Place images left to right, top-aligned, ``gap`` pixels apart.

    Shorter images are padded at the bottom with the background colour.
    """
    if not images:
        raise ValueError('hstack needs at least one image')
    height = max(image.shape[0] for image in images)
    parts = []
    for k, image in enumerate(images):
        check_rgb(image, f'panel {k}')
        if k:
            parts.append(_filler(height, gap))
        parts.append(_pad(image, height, image.shape[1]))
    return np.concatenate(parts, axis=1)


def vstack(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Place images top to bottom, left-aligned, ``gap`` pixels apart."""
    if not images:
        raise ValueError('vstack needs at least one image')
    width = max(image.shape[1] for image in images)
    parts = []
    for k, image in enumerate(images):
        check_rgb(image, f'row {k}')
        if k:
            parts.append(_filler(gap, width))
        parts.append(_pad(image, image.shape[0], width))
    return np.concatenate(parts, axis=0)


def grid(images: Sequence[np.ndarray],
         num_cols: Optional[int] = None,
         gap: int = 4) -> np.ndarray:
    """Lay images out row-major in ``num_cols`` columns (all in one row when
    None)."""
    if not images:
        raise ValueError('grid needs at least one image')
    num_cols = len(images) if num_cols is None else num_cols
    if num_cols < 1:
        raise ValueError(f'num_cols must be >= 1, got {num_cols}')
    rows = [
        hstack(images[start:start + num_cols], gap)
        for start in range(0, len(images), num_cols)
    ]
    return vstack(rows, gap)


def _filler(height: int, width: int) -> np.ndarray:
    return np.full((height, width, 3), BACKGROUND, dtype=np.uint8)


def _pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad ``image`` at the bottom and right to ``(height, width)``."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    out = _filler(height, width)
    out[:h, :w] = image
    return out
