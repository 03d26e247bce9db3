"""Percentage of correct keypoints (JHMDB pose propagation).

The protocol of the pose-propagation benchmark (CRW, UVC, TimeCycle): a
predicted joint is correct when its distance to the annotated joint is at
most ``alpha`` times a reference size of the person in that frame, the
reference size being ``0.6`` times the diagonal of the tight box around the
frame's annotated joints. PCK is computed per joint over every scored
instance of that joint in the dataset and then averaged over the joints.

Coordinates are ``(x, y)`` pixels of the original frame.
"""
from typing import Sequence, Tuple

import numpy as np

#: Fraction of the joints' box diagonal used as the reference size.
DEFAULT_SIZE_SCALE = 0.6


def reference_sizes(gt: np.ndarray,
                    visible: np.ndarray,
                    size_scale: float = DEFAULT_SIZE_SCALE) -> np.ndarray:
    """Reference size of the person in each frame.

    Args:
        gt: ``(N, J, 2)`` annotated joints, ``(x, y)`` pixels.
        visible: ``(N, J)`` bool, which joints are annotated.
        size_scale: Factor applied to the box diagonal.

    Returns:
        float64 ``(N,)``: ``size_scale * ||(x_max - x_min, y_max - y_min)||``
        over the visible joints of each frame; 0 for a frame whose visible
        joints all lie at one position (or that has none).
    """
    gt = np.asarray(gt, dtype=np.float64)
    visible = np.asarray(visible, dtype=bool)
    if gt.ndim != 3 or gt.shape[2] != 2 or visible.shape != gt.shape[:2]:
        raise ValueError(f'expected (N, J, 2) joints and (N, J) visibility, '
                         f'got {gt.shape} and {visible.shape}')
    low = np.where(visible[..., None], gt, np.inf).min(axis=1)
    high = np.where(visible[..., None], gt, -np.inf).max(axis=1)
    extent = np.where(visible.any(axis=1)[:, None], high - low, 0.)
    return size_scale * np.linalg.norm(extent, axis=1)


def normalized_distances(pred: np.ndarray,
                         pred_found: np.ndarray,
                         gt: np.ndarray,
                         visible: np.ndarray,
                         size_scale: float = DEFAULT_SIZE_SCALE) -> np.ndarray:
    """Distances between predicted and annotated joints, in reference sizes.

    A joint is scored when it is annotated (``visible``) in a frame whose
    reference size is positive (at least two distinct annotated positions).
    A scored joint that the prediction lost (``pred_found`` False) is at an
    infinite distance: it is never correct.

    Args:
        pred: ``(N, J, 2)`` predicted joints, ``(x, y)`` pixels.
        pred_found: ``(N, J)`` bool, which joints the prediction located.
        gt: ``(N, J, 2)`` annotated joints.
        visible: ``(N, J)`` bool, which joints are annotated.
        size_scale: See :func:`reference_sizes`.

    Returns:
        float64 ``(N, J)``: ``||pred - gt|| / size`` for scored joints
        (``inf`` if lost), NaN for joints that are not scored.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    pred_found = np.asarray(pred_found, dtype=bool)
    visible = np.asarray(visible, dtype=bool)
    if pred.shape != gt.shape or pred_found.shape != visible.shape or \
            visible.shape != gt.shape[:2]:
        raise ValueError(
            f'predictions {pred.shape} / {pred_found.shape} do not match the '
            f'annotation {gt.shape} / {visible.shape}')
    sizes = reference_sizes(gt, visible, size_scale)
    scored = visible & (sizes > 0)[:, None]
    dist = np.full(visible.shape, np.nan)
    found = scored & pred_found
    offsets = np.where(found[..., None], pred - gt, 0.)
    dist[found] = (np.linalg.norm(offsets, axis=2) /
                   np.where(sizes > 0, sizes, 1.)[:, None])[found]
    dist[scored & ~pred_found] = np.inf
    return dist


def pck_counts(distances: np.ndarray,
               thresholds: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Correct and scored instances of each joint.

    Args:
        distances: ``(N, J)`` from :func:`normalized_distances` (NaN: not
            scored).
        thresholds: The ``alpha`` values, e.g. ``(0.1, 0.2)``.

    Returns:
        ``(correct, total)``: int64 ``(A, J)`` instances with
        ``distance <= alpha`` for each threshold, and int64 ``(J,)`` scored
        instances. Counts of several videos add up.
    """
    distances = np.asarray(distances, dtype=np.float64)
    if distances.ndim != 2:
        raise ValueError(f'distances must be (N, J), got {distances.shape}')
    scored = ~np.isnan(distances)
    correct = np.stack([(scored & (distances <= alpha)).sum(axis=0)
                        for alpha in thresholds]).astype(np.int64)
    return correct, scored.sum(axis=0).astype(np.int64)


def pck_from_counts(correct: np.ndarray,
                    total: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """PCK per joint and averaged over joints.

    Args:
        correct: ``(A, J)`` correct instances per threshold and joint.
        total: ``(J,)`` scored instances per joint.

    Returns:
        ``(per_joint, mean)``: float64 ``(A, J)`` in [0, 1], NaN for joints
        never scored, and ``(A,)`` the mean over the scored joints (NaN when
        none is).
    """
    correct = np.asarray(correct, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    if correct.ndim != 2 or total.shape != correct.shape[1:]:
        raise ValueError(f'correct {correct.shape} must be (A, J) and total '
                         f'{total.shape} (J,)')
    per_joint = np.full_like(correct, np.nan)
    scored = total > 0
    per_joint[:, scored] = correct[:, scored] / total[scored]
    mean = per_joint[:, scored].mean(axis=1) if scored.any() else \
        np.full(correct.shape[0], np.nan)
    return per_joint, mean
