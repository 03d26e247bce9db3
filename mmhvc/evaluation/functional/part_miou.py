"""Per-class intersection over union of label maps (VIP part propagation).

The protocol accumulates, for every class, the intersection and the union of
the predicted and annotated regions over *all* scored pixels of the dataset
(not per frame), then averages ``intersection / union`` over the classes
whose union is not empty. These functions compute the counts of one set of
label maps and the IoU from (summed) counts.
"""
from typing import Tuple

import numpy as np


def intersect_and_union(
        pred: np.ndarray,
        gt: np.ndarray,
        num_classes: int,
        ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray]:
    """Count per-class intersection and union pixels.

    Pixels whose annotation is ``ignore_index`` are not counted, whatever
    the prediction there.

    Args:
        pred: Integer label maps of any shape, e.g. ``(T, H, W)``, with
            class ids in ``[0, num_classes)``.
        gt: Integer label maps of the same shape, with class ids in
            ``[0, num_classes)`` or ``ignore_index``.
        num_classes: Number of classes ``C``.
        ignore_index: Annotation value of unlabelled pixels.

    Returns:
        ``(intersection, union)``, each int64 ``(C,)``: for class ``c`` the
        number of counted pixels where both maps are ``c``, and where at
        least one of them is.

    Raises:
        ValueError: The shapes differ, or a counted pixel holds a class id
            outside ``[0, num_classes)``.
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and annotation {gt.shape} '
                         'must have the same shape')
    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    counted = gt != ignore_index
    pred = pred[counted].astype(np.int64)
    gt = gt[counted].astype(np.int64)
    for name, labels in (('prediction', pred), ('annotation', gt)):
        bad = (labels < 0) | (labels >= num_classes)
        if bad.any():
            raise ValueError(f'the {name} holds class ids '
                             f'{np.unique(labels[bad])[:10].tolist()} '
                             f'outside [0, {num_classes})')
    intersection = np.bincount(
        gt[pred == gt], minlength=num_classes).astype(np.int64)
    area_pred = np.bincount(pred, minlength=num_classes)
    area_gt = np.bincount(gt, minlength=num_classes)
    union = (area_pred + area_gt - intersection).astype(np.int64)
    return intersection, union


def iou_from_counts(intersection: np.ndarray,
                    union: np.ndarray) -> Tuple[np.ndarray, float]:
    """Per-class IoU and their mean from accumulated counts.

    Args:
        intersection: ``(C,)`` intersection pixel counts.
        union: ``(C,)`` union pixel counts.

    Returns:
        ``(iou, miou)``: float64 ``(C,)`` IoU in [0, 1], NaN for classes
        whose union is empty (absent from both prediction and annotation),
        and the mean over the other classes (NaN when every union is empty).
    """
    intersection = np.asarray(intersection, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    if intersection.shape != union.shape or intersection.ndim != 1:
        raise ValueError(f'intersection {intersection.shape} and union '
                         f'{union.shape} must be (C,) arrays')
    iou = np.full_like(union, np.nan)
    present = union > 0
    iou[present] = intersection[present] / union[present]
    miou = float(iou[present].mean()) if present.any() else float('nan')
    return iou, miou
