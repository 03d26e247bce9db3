"""Keypoints as soft labels on the feature grid, and back.

Coordinate convention (as in the CRW/UVC pose-propagation protocol): the
feature grid spans the frame, so pixel ``(x, y)`` of an ``H x W`` frame is
grid position ``(x * w / W, y * h / H)`` of an ``h x w`` grid, and grid
position ``(g_x, g_y)`` is pixel ``(g_x * W / w, g_y * H / h)``. Pixels are
0-based, ``(x, y)`` = (column, row).
"""
from typing import Tuple

import torch
from torch import Tensor


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
