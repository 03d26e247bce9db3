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
    _check_panels(images, 'hstack', 'panel')
    height = max(image.shape[0] for image in images)
    padded = [_pad(image, height, image.shape[1]) for image in images]
    return _join(padded, _filler(height, gap), axis=1)


def vstack(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Place images top to bottom, left-aligned, ``gap`` pixels apart."""
    _check_panels(images, 'vstack', 'row')
    width = max(image.shape[1] for image in images)
    padded = [_pad(image, image.shape[0], width) for image in images]
    return _join(padded, _filler(gap, width), axis=0)


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


def _check_panels(images: Sequence[np.ndarray], caller: str,
                  part: str) -> None:
    """Raise unless ``images`` is a non-empty sequence of RGB images; the
    error names ``caller`` or the ``part`` and its index."""
    if not images:
        raise ValueError(f'{caller} needs at least one image')
    for k, image in enumerate(images):
        check_rgb(image, f'{part} {k}')


def _join(parts: Sequence[np.ndarray], filler: np.ndarray,
          axis: int) -> np.ndarray:
    """Concatenate ``parts`` along ``axis`` with ``filler`` between each
    two neighbours."""
    joined = [parts[0]]
    for part in parts[1:]:
        joined += [filler, part]
    return np.concatenate(joined, axis=axis)


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
