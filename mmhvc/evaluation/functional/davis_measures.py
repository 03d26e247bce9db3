"""Region (J) and boundary (F) measures of the DAVIS benchmark.

Plain numpy/OpenCV functions that reproduce the definitions of the official
``davis2017-evaluation`` toolkit for the semi-supervised task:

- J is the intersection over union of two binary masks (1 when both are
  empty);
- F is the F-measure between the boundary pixels of two binary masks, a
  boundary pixel counting as matched when it lies within ``bound_pix`` pixels
  (a disk) of the other mask's boundary;
- every per-frame series is summarised by its mean, its recall (fraction of
  frames above 0.5) and its decay (mean of the first quarter of the frames
  minus mean of the last quarter).

All masks are indexed ``(H, W)`` (or ``(T, H, W)``) with rows first, as image
arrays are.
"""
from typing import Tuple, Union

import cv2
import numpy as np

DEFAULT_BOUND_TH = 0.008
VOID_LABEL = 255


def region_similarity(gt: np.ndarray,
                      pred: np.ndarray) -> Union[float, np.ndarray]:
    """Jaccard index (region similarity J) of binary masks.

    Args:
        gt (np.ndarray): Ground-truth mask, ``(H, W)`` or ``(T, H, W)``;
            non-zero values are foreground.
        pred (np.ndarray): Predicted mask of the same shape.

    Returns:
        float | np.ndarray: J in [0, 1], a float for one frame or ``(T,)``
        for a sequence. A frame where both masks are empty scores 1.
    """
    _check_same_shape(gt, pred)
    gt = gt.astype(bool)
    pred = pred.astype(bool)
    inter = np.sum(gt & pred, axis=(-2, -1))
    union = np.sum(gt | pred, axis=(-2, -1))
    empty = union == 0
    jaccard = np.where(empty, 1.0, inter / np.maximum(union, 1))
    return float(jaccard) if jaccard.ndim == 0 else jaccard


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary of a binary mask.

    A pixel is a boundary pixel when its value differs from that of its east,
    south or south-east neighbour, with the image extended by background.
    In the last row only the east neighbour is compared, in the last column
    only the south neighbour, and the bottom-right pixel is never a boundary
    pixel. The boundary therefore lies half a pixel towards the origin of the
    true contour.

    Args:
        mask (np.ndarray): ``(H, W)`` mask; non-zero values are foreground.

    Returns:
        np.ndarray: ``(H, W)`` bool boundary map.
    """
    if mask.ndim != 2:
        raise ValueError(
            f'boundary_map expects an (H, W) mask, got shape {mask.shape}')
    seg = mask.astype(bool)
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]

    bmap = (seg ^ east) | (seg ^ south) | (seg ^ south_east)
    bmap[-1, :] = seg[-1, :] ^ east[-1, :]
    bmap[:, -1] = seg[:, -1] ^ south[:, -1]
    bmap[-1, -1] = False
    return bmap


def disk_kernel(radius: int) -> np.ndarray:
    """Disk-shaped structuring element.

    Args:
        radius (int): Radius in pixels, >= 0.

    Returns:
        np.ndarray: ``(2 * radius + 1, 2 * radius + 1)`` uint8 kernel, 1 at
        the offsets ``(dy, dx)`` with ``dx ** 2 + dy ** 2 <= radius ** 2``.
    """
    if radius < 0:
        raise ValueError(f'disk radius must be >= 0, got {radius}')
    offsets = np.arange(-radius, radius + 1)
    dx, dy = np.meshgrid(offsets, offsets)
    return (dx**2 + dy**2 <= radius**2).astype(np.uint8)


def boundary_tolerance(shape: Tuple[int, int],
                       bound_th: float = DEFAULT_BOUND_TH) -> int:
    """Boundary matching tolerance in pixels.

    Args:
        shape (tuple[int, int]): Image size ``(H, W)`` in pixels.
        bound_th (float): A whole number of pixels when >= 1, otherwise a
            fraction of the image diagonal (rounded up to whole pixels).

    Returns:
        int: The tolerance (the radius of the dilation disk) in pixels.
    """
    if bound_th < 0:
        raise ValueError(f'bound_th must be >= 0, got {bound_th}')
    if bound_th >= 1:
        if bound_th != int(bound_th):
            raise ValueError('a bound_th >= 1 is a tolerance in whole pixels, '
                             f'got {bound_th}')
        return int(bound_th)
    return int(np.ceil(bound_th * np.linalg.norm(shape)))


def frame_f_measure(gt: np.ndarray,
                    pred: np.ndarray,
                    bound_th: float = DEFAULT_BOUND_TH) -> float:
    """Boundary F-measure of one frame.

    Precision is the fraction of predicted boundary pixels within the
    tolerance of the ground-truth boundary, recall the fraction of
    ground-truth boundary pixels within the tolerance of the predicted
    boundary. Without any predicted boundary pixel precision is 1 and recall
    0 (1 when the ground truth has none either); without any ground-truth
    boundary pixel precision is 0 and recall 1.

    Args:
        gt (np.ndarray): ``(H, W)`` ground-truth mask, non-zero foreground.
        pred (np.ndarray): ``(H, W)`` predicted mask.
        bound_th (float): Tolerance, see :func:`boundary_tolerance`.

    Returns:
        float: F in [0, 1].
    """
    _check_same_shape(gt, pred)
    kernel = disk_kernel(boundary_tolerance(gt.shape, bound_th))
    gt_boundary = boundary_map(gt)
    pred_boundary = boundary_map(pred)
    gt_dilated = cv2.dilate(gt_boundary.astype(np.uint8), kernel) > 0
    pred_dilated = cv2.dilate(pred_boundary.astype(np.uint8), kernel) > 0

    n_pred = int(pred_boundary.sum())
    n_gt = int(gt_boundary.sum())
    if n_pred == 0 and n_gt == 0:
        precision, recall = 1.0, 1.0
    elif n_pred == 0:
        precision, recall = 1.0, 0.0
    elif n_gt == 0:
        precision, recall = 0.0, 1.0
    else:
        precision = np.sum(pred_boundary & gt_dilated) / n_pred
        recall = np.sum(gt_boundary & pred_dilated) / n_gt

    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def boundary_measure(
        gt: np.ndarray,
        pred: np.ndarray,
        bound_th: float = DEFAULT_BOUND_TH) -> Union[float, np.ndarray]:
    """Boundary F-measure (contour accuracy F) of binary masks.

    Args:
        gt (np.ndarray): Ground-truth mask, ``(H, W)`` or ``(T, H, W)``.
        pred (np.ndarray): Predicted mask of the same shape.
        bound_th (float): Tolerance, see :func:`boundary_tolerance`.

    Returns:
        float | np.ndarray: F for one frame, or ``(T,)`` for a sequence.
    """
    _check_same_shape(gt, pred)
    if gt.ndim == 2:
        return frame_f_measure(gt, pred, bound_th)
    if gt.ndim == 3:
        return np.array([
            frame_f_measure(gt_frame, pred_frame, bound_th)
            for gt_frame, pred_frame in zip(gt, pred)
        ])
    raise ValueError(
        f'boundary_measure expects (H, W) or (T, H, W) masks, got {gt.shape}')


def db_statistics(per_frame: np.ndarray) -> Tuple[float, float, float]:
    """Mean, recall and decay of a per-frame measure.

    The decay splits the frames into four overlapping bins whose edges are
    ``round(linspace(1, n, 5)) - 1`` (halves rounded up); bin ``i`` holds the
    frames ``edges[i]`` to ``edges[i + 1]`` inclusive. Decay is the mean of
    the first bin minus the mean of the last one. NaN values are ignored in
    the means.

    Args:
        per_frame (np.ndarray): ``(n,)`` values of J or F, n >= 1.

    Returns:
        tuple[float, float, float]: Mean, recall (fraction of frames with a
        value > 0.5) and decay.
    """
    values = np.asarray(per_frame, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError('db_statistics expects a non-empty 1-D array, got '
                         f'shape {values.shape}')
    mean = np.nanmean(values)
    recall = np.mean(values > 0.5)
    edges = (np.round(np.linspace(1, values.size, 5) + 1e-10) - 1).astype(
        np.int64)
    first = values[edges[0]:edges[1] + 1]
    last = values[edges[3]:edges[4] + 1]
    decay = np.nanmean(first) - np.nanmean(last)
    return float(mean), float(recall), float(decay)


def merge_objects(label_maps: np.ndarray) -> np.ndarray:
    """Merge every object of label maps into one foreground (DAVIS-2016).

    The DAVIS-2016 benchmark scores one foreground per sequence; its
    sequences are annotated in the DAVIS-2017 release with one id per
    object. The objects (ids 1 .. 254) become id 1, background (0) and void
    (255) are kept.

    Args:
        label_maps: Integer label maps of any shape, e.g. ``(T, H, W)``.

    Returns:
        np.uint8 label maps of the same shape holding 0, 1 and 255.
    """
    label_maps = np.asarray(label_maps)
    merged = np.zeros(label_maps.shape, dtype=np.uint8)
    merged[label_maps > 0] = 1
    merged[label_maps == VOID_LABEL] = VOID_LABEL
    return merged


def evaluate_semisupervised(
        gt_labels: np.ndarray,
        pred_labels: np.ndarray,
        num_objects: int,
        bound_th: float = DEFAULT_BOUND_TH) -> Tuple[np.ndarray, np.ndarray]:
    """Per-object J and F of a semi-supervised result on one sequence.

    As in the official semi-supervised evaluation: objects are the ids
    ``1 .. num_objects``; the first and the last frame are not evaluated;
    an object missing from the prediction is scored against an empty mask;
    a prediction holding an id above ``num_objects`` in an evaluated frame is
    an error; void pixels (255) belong to no object, so they count as
    background of every object.

    Args:
        gt_labels (np.ndarray): ``(T, H, W)`` integer label maps of the
            annotation (0 background, 255 void), T >= 3.
        pred_labels (np.ndarray): ``(T, H, W)`` integer label maps of the
            prediction.
        num_objects (int): Number of annotated objects, 1 to 254.
        bound_th (float): Boundary tolerance, see :func:`boundary_tolerance`.

    Returns:
        tuple[np.ndarray, np.ndarray]: J and F, each
        ``(num_objects, T - 2)``; row ``k - 1`` belongs to object ``k``.
    """
    if gt_labels.ndim != 3:
        raise ValueError(
            f'expected (T, H, W) label maps, got shape {gt_labels.shape}')
    _check_same_shape(gt_labels, pred_labels)
    if gt_labels.shape[0] < 3:
        raise ValueError('the evaluation skips the first and the last frame, '
                         f'so it needs at least 3 frames, got '
                         f'{gt_labels.shape[0]}')
    if not 1 <= num_objects < VOID_LABEL:
        raise ValueError(
            f'num_objects must be in [1, {VOID_LABEL - 1}], got {num_objects}')
    gt = gt_labels[1:-1]
    pred = pred_labels[1:-1]
    max_pred = int(pred.max())
    if max_pred > num_objects:
        raise ValueError(
            f'the prediction contains object id {max_pred}, but the '
            f'annotation has only {num_objects} object(s)')

    jaccard = np.zeros((num_objects, gt.shape[0]))
    f_score = np.zeros((num_objects, gt.shape[0]))
    for index, obj_id in enumerate(range(1, num_objects + 1)):
        gt_obj = gt == obj_id
        pred_obj = pred == obj_id
        jaccard[index] = region_similarity(gt_obj, pred_obj)
        f_score[index] = boundary_measure(gt_obj, pred_obj, bound_th)
    return jaccard, f_score


def _check_same_shape(gt: np.ndarray, pred: np.ndarray) -> None:
    if gt.shape != pred.shape:
        raise ValueError(f'ground truth shape {gt.shape} and prediction '
                         f'shape {pred.shape} do not match')
