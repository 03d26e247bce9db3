"""Percentage of correct keypoints (JHMDB pose propagation).

The protocol of the pose-propagation benchmark (CRW, UVC, TimeCycle): a
predicted joint is correct when its distance to the annotated joint is at
most ``alpha`` times a reference size of the person in that frame, the
reference size being ``0.6`` times the diagonal of the tight box around
joints of the frame. PCK is computed per joint over every scored instance
of that joint in the dataset and then averaged over the joints.

Two variants decide which instances are scored (``protocol``):

- ``'crw'``, CRW's ``eval_pck``, behind the published numbers: a joint is
  scored in every frame where it is annotated and the prediction located it
  (a lost joint is skipped, not counted wrong); the box spans the annotated
  positions of the frame's joints that have a prediction; when that box is
  a single point, the frame's scored joints count as wrong (the reference
  divides by a zero size).
- ``'strict'``: every annotated joint is scored, a lost one counts as
  wrong; the box spans all annotated joints of the frame, and a frame whose
  box is a single point is not scored.

Coordinates are ``(x, y)`` pixels of the original frame.
"""
from typing import Sequence, Tuple

import numpy as np

#: Fraction of the joints' box diagonal used as the reference size.
DEFAULT_SIZE_SCALE = 0.6
#: The variants of which instances are scored, see the module docstring.
PROTOCOLS = ('crw', 'strict')


def reference_sizes(gt: np.ndarray,
                    visible: np.ndarray,
                    size_scale: float = DEFAULT_SIZE_SCALE) -> np.ndarray:
    """Reference size of the person in each frame.

    Args:
        gt: ``(N, J, 2)`` annotated joints, ``(x, y)`` pixels.
        visible: ``(N, J)`` bool, which joints span the box.
        size_scale: Factor applied to the box diagonal.

    Returns:
        float64 ``(N,)``: ``size_scale * ||(x_max - x_min, y_max - y_min)||``
        over the ``visible`` joints of each frame; 0 for a frame whose
        ``visible`` joints all lie at one position (or that has none).
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
                         size_scale: float = DEFAULT_SIZE_SCALE,
                         protocol: str = 'crw') -> np.ndarray:
    """Distances between predicted and annotated joints, in reference sizes.

    See the module docstring for which joints each ``protocol`` scores.
    An instance that is scored but cannot be correct (lost under
    ``'strict'``, a zero-size box under ``'crw'``) is at an infinite
    distance.

    Args:
        pred: ``(N, J, 2)`` predicted joints, ``(x, y)`` pixels.
        pred_found: ``(N, J)`` bool, which joints the prediction located.
        gt: ``(N, J, 2)`` annotated joints.
        visible: ``(N, J)`` bool, which joints are annotated.
        size_scale: See :func:`reference_sizes`.
        protocol: ``'crw'`` or ``'strict'``.

    Returns:
        float64 ``(N, J)``: ``||pred - gt|| / size`` for scored joints
        (``inf`` if they cannot be correct), NaN for joints that are not
        scored.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got '
                         f'{protocol!r}')
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    pred_found = np.asarray(pred_found, dtype=bool)
    visible = np.asarray(visible, dtype=bool)
    if pred.shape != gt.shape or pred_found.shape != visible.shape or \
            visible.shape != gt.shape[:2]:
        raise ValueError(
            f'predictions {pred.shape} / {pred_found.shape} do not match the '
            f'annotation {gt.shape} / {visible.shape}')
    if protocol == 'crw':
        scored = visible & pred_found
        sizes = reference_sizes(gt, scored, size_scale)
        measurable = scored & (sizes > 0)[:, None]
        hopeless = scored & ~measurable
    else:
        sizes = reference_sizes(gt, visible, size_scale)
        scored = visible & (sizes > 0)[:, None]
        measurable = scored & pred_found
        hopeless = scored & ~pred_found
    dist = np.full(visible.shape, np.nan)
    offsets = np.where(measurable[..., None], pred - gt, 0.)
    dist[measurable] = (np.linalg.norm(offsets, axis=2) /
                        np.where(sizes > 0, sizes, 1.)[:, None])[measurable]
    dist[hopeless] = np.inf
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
