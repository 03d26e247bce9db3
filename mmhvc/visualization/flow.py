"""Pictures of 2-channel motion fields (HVC's pseudo-flow).

A field is a ``(2, h, w)`` tensor or array on a feature grid whose channel 0
is read as the x (rightward) and channel 1 as the y (downward) component of
a vector per cell. HVC's flow layer gives such a field without a physical
unit; the loss only uses its direction (the field is L2-normalised per
cell), so the pictures show the direction as hue and the length, relative
to the longest vector (or ``max_norm``), as saturation and arrow length.
"""
from typing import Optional, Tuple, Union

import cv2
import numpy as np
import torch

from mmhvc.fileio import check_rgb

ArrayLike = Union[np.ndarray, torch.Tensor]


def _as_field(flow: ArrayLike) -> np.ndarray:
    """A ``(2, h, w)`` float64 array from a tensor or array, checked."""
    if isinstance(flow, torch.Tensor):
        flow = flow.detach().cpu().double().numpy()
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f'a flow field must be (2, h, w), got {flow.shape}')
    if not np.isfinite(flow).all():
        raise ValueError('the flow field has non-finite values')
    return flow


def flow_to_rgb(flow: ArrayLike,
                max_norm: Optional[float] = None) -> np.ndarray:
    """Colour-code a field: hue = direction, saturation = relative length.

    Rightward vectors are red, downward ones yellow-green, leftward cyan
    and upward violet (OpenCV's HSV hue circle, angle measured clockwise
    from +x in image coordinates); a zero vector is white.

    Args:
        flow: ``(2, h, w)`` field (channel 0 = x, channel 1 = y).
        max_norm: Length drawn fully saturated; None for the longest vector
            of the field.

    Returns:
        ``(h, w, 3)`` uint8 RGB image, one pixel per cell.
    """
    flow = _as_field(flow)
    dx, dy = flow
    norm = np.hypot(dx, dy)
    scale = norm.max() if max_norm is None else float(max_norm)
    if scale <= 0:
        scale = 1.
    angle = np.degrees(np.arctan2(dy, dx)) % 360.
    hsv = np.empty(dx.shape + (3, ), dtype=np.uint8)
    hsv[..., 0] = np.round(angle / 2.).astype(np.int64) % 180
    hsv[..., 1] = np.round(np.clip(norm / scale, 0, 1) * 255).astype(np.uint8)
    hsv[..., 2] = 255
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def flow_color_wheel(size: int = 64) -> np.ndarray:
    """The colour key of :func:`flow_to_rgb`: a disc whose pixel at offset
    ``v`` from the centre has the colour of the vector ``v`` (white
    outside the disc).

    Returns:
        ``(size, size, 3)`` uint8 RGB image.
    """
    if size < 3:
        raise ValueError(f'the colour wheel needs size >= 3, got {size}')
    centre = (size - 1) / 2.
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    field = np.stack([xs - centre, ys - centre]) / centre
    wheel = flow_to_rgb(field, max_norm=1.)
    wheel[np.hypot(*field) > 1.] = 255
    return wheel


def upsample_cells(cells: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Enlarge a per-cell image to ``size = (H, W)`` pixels, each cell a
    block of equal colour (nearest neighbour)."""
    check_rgb(cells, 'cell image')
    return cv2.resize(
        cells, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


def draw_flow_arrows(image: np.ndarray,
                     flow: ArrayLike,
                     step: int = 1,
                     max_norm: Optional[float] = None,
                     color: Tuple[int, int, int] = (255, 255, 255),
                     thickness: int = 1) -> np.ndarray:
    """Draw one arrow per cell of a field over the image it belongs to.

    Cell ``(r, c)`` of an ``(h, w)`` grid covers the pixels of an
    ``(H, W)`` image around ``((c + 0.5) * W / w - 0.5,
    (r + 0.5) * H / h - 0.5)``, where each arrow starts. The longest
    vector (or one of length ``max_norm``) spans one cell.

    Args:
        image: ``(H, W, 3)`` uint8 RGB image (not modified).
        flow: ``(2, h, w)`` field.
        step: Draw every ``step``-th cell in each direction.
        max_norm: Length drawn as one cell; None for the longest vector.
        color: RGB colour of the arrows.
        thickness: Line width in pixels.

    Returns:
        A copy of ``image`` with the arrows.
    """
    check_rgb(image)
    flow = _as_field(flow)
    if step < 1:
        raise ValueError(f'step must be >= 1, got {step}')
    out = np.ascontiguousarray(image.copy())
    h_img, w_img = image.shape[:2]
    _, h, w = flow.shape
    cell_w, cell_h = w_img / w, h_img / h
    norm = np.hypot(flow[0], flow[1])
    scale = norm.max() if max_norm is None else float(max_norm)
    if scale <= 0:
        return out
    for r in range(step // 2, h, step):
        for c in range(step // 2, w, step):
            x0 = (c + 0.5) * cell_w - 0.5
            y0 = (r + 0.5) * cell_h - 0.5
            x1 = x0 + flow[0, r, c] / scale * cell_w * step
            y1 = y0 + flow[1, r, c] / scale * cell_h * step
            cv2.arrowedLine(
                out, (int(round(x0)), int(round(y0))),
                (int(round(x1)), int(round(y1))),
                color,
                thickness,
                cv2.LINE_AA,
                tipLength=0.3)
    return out
