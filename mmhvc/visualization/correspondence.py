"""Affinity heat maps between two frames and positive pairs of crop views.

Coordinates:

- Pixels are indexed ``(x, y)``, x the column and y the row, with pixel
  centres at integers.
- A feature map of size ``(h, w)`` over an ``(H, W)`` image: cell
  ``(r, c)`` has its centre at pixel ``((c + 0.5) * W / w - 0.5,
  (r + 0.5) * H / h - 0.5)``, and pixel ``(x, y)`` lies in the cell
  ``(floor((y + 0.5) * h / H), floor((x + 0.5) * w / W))``. Positions are
  flattened row-major, ``i = r * w + c``.
- Crop boxes ``(x1, y1, x2, y2)`` are in normalised original-image
  coordinates (``x / (W_img - 1)``, ``y / (H_img - 1)``), as written by
  ``RandomResizedCropPair``; the bin layout over a box is the one of the
  hybrid correspondence loss (:func:`crop_bin_centres`).

Images are ``np.uint8`` RGB ``(H, W, 3)`` arrays.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from mmhvc.fileio import check_rgb
from mmhvc.models.losses.hybrid_correspondence_loss import (
    coord_positive_mask, crop_bin_centres)
from .layout import add_title, hstack, resize_to_height

#: Marker colours (RGB), cycled over query points and pairs.
POINT_COLORS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
                (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
                (0, 128, 128), (170, 110, 40))
#: Colours of the two views' crop boxes (RGB).
VIEW_COLORS = ((255, 64, 64), (64, 160, 255))


def point_color(k: int) -> Tuple[int, int, int]:
    """The marker colour of the k-th point or pair."""
    return POINT_COLORS[k % len(POINT_COLORS)]


def pixels_to_cells(points: Tensor, image_size: Tuple[int, int],
                    grid: Tuple[int, int]) -> Tensor:
    """Feature cells ``(row, col)`` of pixel positions.

    Args:
        points: ``(N, 2)`` pixel coordinates ``(x, y)``.
        image_size: ``(H, W)`` of the image.
        grid: ``(h, w)`` of its feature map.

    Returns:
        ``(N, 2)`` int64 ``(row, col)``.

    Raises:
        ValueError: A point lies outside the image.
    """
    points = torch.as_tensor(points, dtype=torch.float64)
    if points.dim() != 2 or points.size(1) != 2:
        raise ValueError(f'points must be (N, 2), got {tuple(points.shape)}')
    height, width = image_size
    x, y = points[:, 0], points[:, 1]
    outside = (x < 0) | (x > width - 1) | (y < 0) | (y > height - 1)
    if outside.any():
        bad = points[outside][0].tolist()
        raise ValueError(f'point (x={bad[0]:g}, y={bad[1]:g}) is outside '
                         f'the {width}x{height} image')
    rows = ((y + 0.5) * grid[0] / height).floor().long().clamp(0, grid[0] - 1)
    cols = ((x + 0.5) * grid[1] / width).floor().long().clamp(0, grid[1] - 1)
    return torch.stack([rows, cols], dim=1)


def cells_to_pixels(cells: Tensor, image_size: Tuple[int, int],
                    grid: Tuple[int, int]) -> Tensor:
    """Pixel centres ``(x, y)`` (float64, ``(N, 2)``) of feature cells
    ``(row, col)`` (``(N, 2)``)."""
    cells = torch.as_tensor(cells).double()
    x = (cells[:, 1] + 0.5) * image_size[1] / grid[1] - 0.5
    y = (cells[:, 0] + 0.5) * image_size[0] / grid[0] - 0.5
    return torch.stack([x, y], dim=1)


def affinity_heatmaps(feat_a: Tensor, feat_b: Tensor, cells: Tensor,
                      temperature: float) -> Tensor:
    """Where the query cells of frame A go in frame B.

    The heat map of a query is ``softmax_j(<a_q, b_j> / temperature)`` over
    all positions j of B: the same affinity the label propagator uses, but
    without its radius and top-k restrictions.

    Args:
        feat_a: ``(C, h_a, w_a)`` features of A (L2-normalised per cell for
            cosine affinities).
        feat_b: ``(C, h_b, w_b)`` features of B.
        cells: ``(N, 2)`` query cells ``(row, col)`` of A.
        temperature: Softmax temperature (> 0).

    Returns:
        ``(N, h_b, w_b)`` float32; each map sums to 1.
    """
    if feat_a.dim() != 3 or feat_b.dim() != 3 or \
            feat_a.size(0) != feat_b.size(0):
        raise ValueError(
            'feat_a and feat_b must be (C, h, w) with the same C, got '
            f'{tuple(feat_a.shape)} and {tuple(feat_b.shape)}')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    cells = torch.as_tensor(cells, dtype=torch.long, device=feat_a.device)
    queries = feat_a[:, cells[:, 0], cells[:, 1]].t().float()
    keys = feat_b.flatten(1).float()
    weights = (queries @ keys / temperature).softmax(dim=1)
    return weights.view(-1, *feat_b.shape[1:])


def best_matches(heatmaps: Tensor) -> Tensor:
    """``(N, 2)`` ``(row, col)`` of the maximum of each ``(N, h, w)`` map
    (the first one in row-major order on ties)."""
    flat = heatmaps.flatten(1).argmax(dim=1)
    width = heatmaps.size(-1)
    return torch.stack([flat // width, flat % width], dim=1)


def heatmap_overlay(image: np.ndarray,
                    heatmap: np.ndarray,
                    alpha: float = 0.6) -> np.ndarray:
    """Blend a heat map (jet colours, scaled to its own maximum) over an
    image; the ``(h, w)`` map is upsampled bilinearly to the image."""
    check_rgb(image)
    heatmap = np.asarray(heatmap, dtype=np.float32)
    peak = float(heatmap.max())
    scaled = heatmap / peak if peak > 0 else heatmap
    scaled = cv2.resize(
        scaled, (image.shape[1], image.shape[0]),
        interpolation=cv2.INTER_LINEAR)
    jet = cv2.applyColorMap(
        np.round(np.clip(scaled, 0, 1) * 255).astype(np.uint8),
        cv2.COLORMAP_JET)
    jet = cv2.cvtColor(jet, cv2.COLOR_BGR2RGB)
    return np.round((1 - alpha) * image + alpha * jet).astype(np.uint8)


def _marker(image: np.ndarray, xy: Sequence[float],
            color: Tuple[int, int, int], kind: int, size: int) -> None:
    """Draw a marker with a black outline at pixel ``xy`` (in place)."""
    centre = (int(round(xy[0])), int(round(xy[1])))
    cv2.drawMarker(image, centre, (0, 0, 0), kind, size + 2, 3, cv2.LINE_AA)
    cv2.drawMarker(image, centre, color, kind, size, 1, cv2.LINE_AA)


def draw_affinity_heatmaps(image_a: np.ndarray,
                           image_b: np.ndarray,
                           points: Tensor,
                           heatmaps: Tensor,
                           alpha: float = 0.6,
                           marker_size: int = 10) -> np.ndarray:
    """One row: A with its query points, then per query B with the heat
    map and its best match.

    Args:
        image_a: ``(H_a, W_a, 3)`` RGB frame A.
        image_b: ``(H_b, W_b, 3)`` RGB frame B.
        points: ``(N, 2)`` query pixels ``(x, y)`` of A.
        heatmaps: ``(N, h, w)`` maps over B's feature grid
            (:func:`affinity_heatmaps`).
        alpha: Opacity of the heat map colours.
        marker_size: Marker size in pixels.

    Returns:
        RGB image: ``N + 1`` titled panels of height ``H_b`` (A resized to
        it).
    """
    check_rgb(image_a, 'image_a')
    check_rgb(image_b, 'image_b')
    points = torch.as_tensor(points, dtype=torch.float64)
    if heatmaps.dim() != 3 or heatmaps.size(0) != points.size(0):
        raise ValueError(f'{points.size(0)} points need (N, h, w) heat maps, '
                         f'got {tuple(heatmaps.shape)}')
    height_b, width_b = image_b.shape[:2]
    scale = height_b / image_a.shape[0]
    # a copy: the markers must not be drawn on the caller's frame
    panel_a = resize_to_height(image_a, height_b).copy()
    grid = tuple(heatmaps.shape[1:])
    matches = cells_to_pixels(
        best_matches(heatmaps), (height_b, width_b), grid)
    panels = []
    for k, (point, match) in enumerate(zip(points, matches)):
        _marker(panel_a, (point * scale).tolist(), point_color(k),
                cv2.MARKER_CROSS, marker_size)
        panel = heatmap_overlay(image_b, heatmaps[k].cpu().numpy(), alpha)
        _marker(panel, match.tolist(), point_color(k), cv2.MARKER_TILTED_CROSS,
                marker_size)
        peak = float(heatmaps[k].max())
        panels.append(
            add_title(
                panel, f'#{k} ({point[0]:.0f},{point[1]:.0f}) '
                f'max {peak:.2f}'))
    return hstack([add_title(panel_a, 'A: query points')] + panels)


def query_heatmaps(model: nn.Module, frame_a: np.ndarray,
                   frame_b: np.ndarray, points: Tensor,
                   temperature: float) -> Tensor:
    """Encode two frames with a propagation model and give the heat maps
    of query pixels of A over B (:func:`affinity_heatmaps`).

    Args:
        model: A propagation model (``extract_feat`` of a ``(3, H, W)``
            0-255 BGR tensor gives ``(C, h, w)`` features), e.g. from
            :func:`mmhvc.apis.init_model`.
        frame_a: ``(H_a, W_a, 3)`` uint8 RGB frame holding the queries.
        frame_b: ``(H_b, W_b, 3)`` uint8 RGB frame searched.
        points: ``(N, 2)`` query pixels ``(x, y)`` of A.
        temperature: Softmax temperature (> 0).

    Returns:
        ``(N, h_b, w_b)`` float32 heat maps on the model's device.

    Raises:
        ValueError: A point lies outside frame A.
    """
    check_rgb(frame_a, 'frame_a')
    check_rgb(frame_b, 'frame_b')
    device = next(model.parameters()).device
    with torch.no_grad():
        feats = [
            model.extract_feat(
                torch.from_numpy(
                    np.ascontiguousarray(frame[..., ::-1].transpose(
                        2, 0, 1))).to(device)) for frame in (frame_a, frame_b)
        ]
    cells = pixels_to_cells(points, frame_a.shape[:2],
                            tuple(feats[0].shape[1:]))
    return affinity_heatmaps(feats[0], feats[1], cells, temperature)


def correspondence_heatmap(model: nn.Module,
                           frame_a: np.ndarray,
                           frame_b: np.ndarray,
                           point: Tuple[float, float],
                           temperature: float,
                           alpha: float = 0.6) -> np.ndarray:
    """Where a pixel of frame A goes in frame B, drawn as a heat map.

    Args:
        model: See :func:`query_heatmaps`.
        frame_a: ``(H_a, W_a, 3)`` uint8 RGB frame holding the query.
        frame_b: ``(H_b, W_b, 3)`` uint8 RGB frame searched.
        point: Query pixel ``(x, y)`` of A.
        temperature: Softmax temperature of the affinities (> 0).
        alpha: Opacity of the heat map colours.

    Returns:
        uint8 RGB image of height ``H_b``: A with the point, then B with
        the heat map and its best match (:func:`draw_affinity_heatmaps`).

    Raises:
        ValueError: The point is outside frame A.
    """
    points = torch.tensor([point], dtype=torch.float64)
    heatmaps = query_heatmaps(model, frame_a, frame_b, points, temperature)
    return draw_affinity_heatmaps(
        frame_a, frame_b, points, heatmaps.cpu(), alpha=alpha)


def select_positive_pairs(boxes: Tensor, feat_size: Tuple[int, int],
                          pos_radius: float, num_pairs: int) -> Tensor:
    """A few positive pairs of two crop views, spread over their overlap.

    Among the view-1 positions that have a positive partner (the hybrid
    loss's :func:`coord_positive_mask`), ``num_pairs`` are taken evenly
    spaced in row-major order; each is paired with its positive view-2
    position whose bin centre is closest in the original image. No
    randomness is used.

    Args:
        boxes: ``(2, 4)`` crop boxes of the two views.
        feat_size: ``(h, w)`` feature grid of both views.
        pos_radius: Positive radius of the loss.
        num_pairs: Most pairs to return.

    Returns:
        ``(K, 2)`` int64 flattened positions ``(i in view 1, j in view
        2)``, ``K <= num_pairs`` (0 when the views do not overlap).
    """
    # float32, as in the loss, so that pairs at the threshold agree with it
    boxes = torch.as_tensor(boxes, dtype=torch.float32)
    if boxes.shape != (2, 4):
        raise ValueError(f'boxes must be (2, 4), got {tuple(boxes.shape)}')
    mask = coord_positive_mask(boxes[0:1], boxes[1:2], feat_size,
                               pos_radius)[0]
    candidates = mask.any(dim=1).nonzero()[:, 0]
    if candidates.numel() == 0 or num_pairs < 1:
        return torch.zeros(0, 2, dtype=torch.long)
    count = min(num_pairs, candidates.numel())
    picks = torch.linspace(0, candidates.numel() - 1, count).round().long()
    rows = candidates[picks.unique()]
    centres = [_flat_centres(box, feat_size) for box in boxes]
    dist = torch.cdist(centres[0][rows], centres[1])
    dist[~mask[rows]] = float('inf')
    return torch.stack([rows, dist.argmin(dim=1)], dim=1)


def _flat_centres(box: Tensor, feat_size: Tuple[int, int]) -> Tensor:
    """``(h * w, 2)`` normalised bin centres ``(x, y)`` of one box, row
    major."""
    cx, cy, _ = crop_bin_centres(box[None], feat_size)
    ys, xs = torch.meshgrid(cy[0], cx[0], indexing='ij')
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


def draw_crop_pair(source: np.ndarray,
                   views: Sequence[np.ndarray],
                   boxes: Tensor,
                   pairs: Tensor,
                   feat_size: Tuple[int, int],
                   gap: int = 4,
                   marker_size: int = 6) -> np.ndarray:
    """The source image with both crop boxes, the two views, and positive
    pairs joined by lines from view 1 to view 2.

    Each pair is also marked in the source image at its two bin centres
    (the same colour as its line).

    Args:
        source: ``(H_img, W_img, 3)`` RGB original image.
        views: Two ``(S_h, S_w, 3)`` RGB views.
        boxes: ``(2, 4)`` crop boxes of the views.
        pairs: ``(K, 2)`` flattened positions ``(i, j)`` of view 1 and view
            2 (e.g. from :func:`select_positive_pairs`).
        feat_size: ``(h, w)`` feature grid of the views.
        gap: Pixels between the panels.
        marker_size: Marker size in pixels.

    Returns:
        RGB image: ``[source | view 1 | view 2]``, all of height ``S_h``.
    """
    check_rgb(source, 'source image')
    if len(views) != 2:
        raise ValueError(f'expected two views, got {len(views)}')
    view_1, view_2 = (check_rgb(v, f'view {k + 1}')
                      for k, v in enumerate(views))
    boxes = torch.as_tensor(boxes, dtype=torch.float64)
    if boxes.shape != (2, 4):
        raise ValueError(f'boxes must be (2, 4), got {tuple(boxes.shape)}')
    pairs = torch.as_tensor(pairs, dtype=torch.long).view(-1, 2)
    height = view_1.shape[0]
    img_h, img_w = source.shape[:2]
    scale = height / img_h
    panel = np.ascontiguousarray(resize_to_height(source, height))
    # normalised -> source pixel index -> resized panel pixel
    to_panel = torch.tensor([img_w - 1, img_h - 1],
                            dtype=torch.float64) * scale
    for k, box in enumerate(boxes):
        x1, y1 = (box[:2] * to_panel).round().int().tolist()
        x2, y2 = (box[2:] * to_panel).round().int().tolist()
        cv2.rectangle(panel, (x1, y1), (x2, y2), VIEW_COLORS[k], 2)
    centres = [_flat_centres(box, feat_size) * to_panel for box in boxes]
    for k, (i, j) in enumerate(pairs.tolist()):
        color = point_color(k)
        _marker(panel, centres[0][i].tolist(), color, cv2.MARKER_CROSS,
                marker_size)
        _marker(panel, centres[1][j].tolist(), color, cv2.MARKER_TILTED_CROSS,
                marker_size)
    canvas = hstack([panel, view_1, view_2], gap)
    offset_1 = panel.shape[1] + gap
    offset_2 = offset_1 + view_1.shape[1] + gap
    w = feat_size[1]
    for k, (i, j) in enumerate(pairs.tolist()):
        p1 = cells_to_pixels(
            torch.tensor([[i // w, i % w]]), view_1.shape[:2], feat_size)[0]
        p2 = cells_to_pixels(
            torch.tensor([[j // w, j % w]]), view_2.shape[:2], feat_size)[0]
        start = (int(round(p1[0].item())) + offset_1, int(round(p1[1].item())))
        end = (int(round(p2[0].item())) + offset_2, int(round(p2[1].item())))
        cv2.line(canvas, start, end, point_color(k), 1, cv2.LINE_AA)
        cv2.circle(canvas, start, 2, point_color(k), -1, cv2.LINE_AA)
        cv2.circle(canvas, end, 2, point_color(k), -1, cv2.LINE_AA)
    return canvas
