"""Keypoints as Gaussian heat maps on the feature grid, and back.

Coordinate convention (as in the CRW/UVC pose-propagation protocol): the
feature grid spans the frame, so pixel ``(x, y)`` of an ``H x W`` frame is
grid position ``(x * w / W, y * h / H)`` of an ``h x w`` grid, and grid
position ``(g_x, g_y)`` is pixel ``(g_x * W / w, g_y * H / h)``. Pixels are
0-based, ``(x, y)`` = (column, row).
"""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from mmhvc.registry import LABEL_CODECS
from .base import BaseLabelCodec
def keypoints_to_heatmaps(keypoints: Tensor,
                          visible: Tensor,
                          image_size: Tuple[int, int],
                          grid_size: Tuple[int, int],
                          sigma: float = 0.5) -> Tensor:
    """Draw one Gaussian per keypoint on the feature grid.

    Each visible keypoint is moved to the grid and rounded to its nearest
    cell ``c``; its channel is ``exp(-|p - c|**2 / (2 * sigma**2))`` at the
    cells ``p`` with ``|p_x - c_x| <= 3 sigma`` and ``|p_y - c_y| <= 3
    sigma`` (1 at ``c``), 0 elsewhere; cells outside the grid are dropped.
    Invisible keypoints, and those whose window lies outside the grid, give
    an all-zero channel.

    Args:
        keypoints: ``(J, 2)`` ``(x, y)`` pixel coordinates.
        visible: ``(J,)`` bool, which keypoints are annotated.
        image_size: ``(H, W)`` of the frame the coordinates refer to.
        grid_size: ``(h, w)`` of the feature grid.
        sigma: Standard deviation in grid cells (``> 0``).

    Returns:
        float32 ``(J, h, w)`` heat maps, on the device of ``keypoints``.
    """
    if sigma <= 0:
        raise ValueError(f'sigma must be > 0, got {sigma}')
    if keypoints.dim() != 2 or keypoints.shape[1] != 2 or \
            visible.shape != keypoints.shape[:1]:
        raise ValueError(f'expected (J, 2) keypoints and (J,) visibility, '
                         f'got {tuple(keypoints.shape)} and '
                         f'{tuple(visible.shape)}')
    (height, width), (grid_h, grid_w) = image_size, grid_size
    visible = visible.to(torch.bool)
    scale = keypoints.new_tensor([grid_w / width, grid_h / height],
                                 dtype=torch.float64)
    centres = torch.floor(keypoints.to(torch.float64) * scale + 0.5)
    centres = torch.where(visible[:, None], centres, torch.zeros_like(centres))
    xs = torch.arange(grid_w, device=keypoints.device, dtype=torch.float64)
    ys = torch.arange(grid_h, device=keypoints.device, dtype=torch.float64)
    dx = xs[None] - centres[:, :1]
    dy = ys[None] - centres[:, 1:]
    reach = 3 * sigma
    gauss_x = torch.exp(-dx**2 / (2 * sigma**2)) * (dx.abs() <= reach)
    gauss_y = torch.exp(-dy**2 / (2 * sigma**2)) * (dy.abs() <= reach)
    heatmaps = gauss_y[:, :, None] * gauss_x[:, None, :]
    return (heatmaps * visible[:, None, None]).to(torch.float32)


def heatmaps_to_keypoints(heatmaps: Tensor,
                          image_size: Tuple[int, int],
                          topk: int = 3) -> Tuple[Tensor, Tensor]:
    """Locate each keypoint from its soft-label channel.

    The ``topk`` largest cells of a channel are averaged, weighted by their
    values (so the location is sub-cell), and mapped to pixels. A channel
    that is zero everywhere gives no location.

    Args:
        heatmaps: ``(J, h, w)`` non-negative soft labels.
        image_size: ``(H, W)`` of the frame to map the location to.
        topk: Number of cells averaged.

    Returns:
        ``(keypoints, found)``: float32 ``(J, 2)`` ``(x, y)`` pixel
        coordinates (NaN where not found) and bool ``(J,)``.
    """
    if heatmaps.dim() != 3:
        raise ValueError(f'expected (J, h, w) heat maps, got '
                         f'{tuple(heatmaps.shape)}')
    if topk < 1:
        raise ValueError(f'topk must be >= 1, got {topk}')
    num_joints, grid_h, grid_w = heatmaps.shape
    flat = heatmaps.reshape(num_joints, -1).to(torch.float64)
    values, index = flat.topk(min(topk, flat.shape[1]), dim=1)
    found = flat.sum(dim=1) > 0
    weights = values / values.sum(
        dim=1, keepdim=True).clamp_min(torch.finfo(values.dtype).tiny)
    grid_x = ((index % grid_w) * weights).sum(dim=1)
    grid_y = ((index // grid_w) * weights).sum(dim=1)
    height, width = image_size
    keypoints = torch.stack(
        [grid_x * width / grid_w, grid_y * height / grid_h], dim=1)
    keypoints[~found] = float('nan')
    return keypoints.to(torch.float32), found


@LABEL_CODECS.register_module()
class KeypointCodec(BaseLabelCodec):
    """Keypoints given in one frame (JHMDB pose propagation).

    One soft-label channel per keypoint, which in the given frame is a
    Gaussian around the keypoint on the feature grid
    (:func:`keypoints_to_heatmaps`, ``sigma`` in grid cells). The propagated
    channels of every later frame are decoded into keypoints by a
    value-weighted average of each channel's ``decode_topk`` largest cells
    (:func:`heatmaps_to_keypoints`).

    There is no background channel: a propagated label is a weighted sum of
    context labels whose weights depend on the features only, so each
    channel is carried on its own and an extra background channel could not
    move any keypoint.

    Keypoints are ``(x, y)`` pixels of the frame size in the metainfo
    ``ori_shape`` (the annotation's frame), which may differ from the size
    of the encoded frames (e.g. resized to 320 x 320): the feature grid is
    taken to span the frame in both cases.

    Data sample: ``given_keypoints`` (``(1, J, 2)`` ``(x, y)`` pixels of an
    ``ori_shape`` frame), ``given_visible`` (bool ``(1, J)``) and the
    metainfo ``given_frames`` (``[t0]``).

    Outputs of a frame: ``pred_keypoints`` (float32 ``(J, 2)``, ``(x, y)``
    pixels, NaN where not located) and ``pred_visible`` (bool ``(J,)``).
    Frame ``t0`` holds the given keypoints; frames before it have none.

    Args:
        sigma: Standard deviation of the given keypoints' Gaussians, in
            feature-grid cells. The protocol uses 0.5.
        decode_topk: Number of largest cells averaged to locate a keypoint.
            The protocol uses 3.
    """

    given_keys = ('given_keypoints', 'given_visible')

    def __init__(self, sigma: float = 0.5, decode_topk: int = 3) -> None:
        if sigma <= 0:
            raise ValueError(f'sigma must be > 0, got {sigma}')
        if decode_topk < 1:
            raise ValueError(f'decode_topk must be >= 1, got {decode_topk}')
        self.sigma = sigma
        self.decode_topk = decode_topk

    def encode(self, given: Dict[str, Tensor], meta: dict,
               grid_size: Tuple[int, int]) -> Tensor:
        """Heat maps of the given keypoints on the feature grid."""
        return keypoints_to_heatmaps(
            torch.as_tensor(given['given_keypoints'], dtype=torch.float32),
            torch.as_tensor(given['given_visible'], dtype=torch.bool),
            tuple(meta['ori_shape']), grid_size, self.sigma)

    def decode(self,
               soft: Optional[Tensor],
               meta: dict,
               given: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """``pred_keypoints`` and ``pred_visible``: located from the soft
        labels, or the given keypoints where they are given."""
        if given is not None:
            keypoints = torch.as_tensor(
                given['given_keypoints'], dtype=torch.float32)
            visible = torch.as_tensor(given['given_visible'],
                                      dtype=torch.bool)
            return dict(
                pred_keypoints=torch.where(visible[:, None], keypoints,
                                           torch.nan),
                pred_visible=visible)
        keypoints, found = heatmaps_to_keypoints(soft,
                                                 tuple(meta['ori_shape']),
                                                 self.decode_topk)
        return dict(pred_keypoints=keypoints, pred_visible=found)
