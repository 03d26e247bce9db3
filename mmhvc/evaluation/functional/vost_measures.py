"""Region measures of the VOST benchmark: J and J_last.

VOST (Video Object Segmentation under Transformations) scores only the
region similarity J of the DAVIS toolkit, and adds J_last, the same
statistics over the last quarter of the scored frames, where the objects
have been transformed (cut, split, peeled, ...). The definitions follow the
official VOST evaluation:

- only the frames that carry an annotation are scored, and the first and
  the last of them are left out (the first is the given mask);
- the objects are the ids ``1 .. N``, N the largest id of the first
  annotated frame; ids that appear only later are not scored;
- void pixels (255) count as background of every object, and no void mask
  enters the IoU;
- an object missing from the prediction is scored against an empty mask,
  and predicted ids above N are ignored;
- per object, J-Mean / Recall / Decay are taken over the n scored frames
  and J_last-Mean / Recall / Decay over the frames from index
  ``floor(0.75 * n)`` on; the global numbers average over all objects of
  all sequences.

Label maps are ``(K, H, W)`` integer arrays of the K annotated frames, rows
first.
"""
import math
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .davis_measures import VOID_LABEL, db_statistics, region_similarity

GLOBAL_COLUMNS = ('J-Mean', 'J-Recall', 'J-Decay', 'J_last-Mean',
                  'J_last-Recall', 'J_last-Decay')
SEQUENCE_COLUMNS = ('Sequence', 'J-Mean', 'J_last-Mean')
#: Where J_last starts, as a fraction of the scored frames.
LAST_FRACTION = 0.75

Statistics = Tuple[float, float, float]


def vost_num_objects(first_gt: np.ndarray) -> int:
    """The number N of scored objects: the largest id of the first
    annotated frame, void (255) left out.

    Args:
        first_gt: ``(H, W)`` label map of the first annotated frame.

    Returns:
        N >= 0 (0 when the frame holds only background and void).
    """
    objects = first_gt[first_gt != VOID_LABEL]
    return int(objects.max()) if objects.size else 0


def last_quarter_start(num_scored: int) -> int:
    """The index of the first frame of J_last among ``num_scored`` scored
    frames: ``floor(0.75 * num_scored)``."""
    return int(math.floor(LAST_FRACTION * num_scored))


def vost_frame_jaccard(gt: np.ndarray, pred: np.ndarray,
                       num_objects: int) -> np.ndarray:
    """J of every object on every scored frame.

    Args:
        gt: ``(K, H, W)`` label maps of the K >= 3 annotated frames (0
            background, 255 void).
        pred: ``(K, H, W)`` predicted label maps of the same frames.
        num_objects: N, the objects ``1 .. N`` to score.

    Returns:
        ``(N, K - 2)`` J of the frames between the first and the last
        annotated frame; row ``k - 1`` belongs to object ``k``.
    """
    if gt.ndim != 3 or gt.shape != pred.shape:
        raise ValueError('expected (K, H, W) ground truth and prediction of '
                         f'one shape, got {gt.shape} and {pred.shape}')
    if gt.shape[0] < 3:
        raise ValueError(
            'the first and the last annotated frame are not scored, so at '
            f'least 3 annotated frames are needed, got {gt.shape[0]}')
    scored_gt, scored_pred = gt[1:-1], pred[1:-1]
    jaccard = np.zeros((num_objects, scored_gt.shape[0]))
    for obj_id in range(1, num_objects + 1):
        jaccard[obj_id - 1] = region_similarity(scored_gt == obj_id,
                                                scored_pred == obj_id)
    return jaccard


def vost_object_statistics(seq_name: str, gt: np.ndarray,
                           pred: np.ndarray) -> List[Dict]:
    """Per-object J and J_last statistics of one sequence.

    Args:
        seq_name: The sequence's name; object ``k`` is named
            ``<seq_name>_<k>``.
        gt: ``(K, H, W)`` label maps of the K >= 3 annotated frames, the
            first one being the given mask.
        pred: ``(K, H, W)`` predicted label maps of the same frames.

    Returns:
        One dict per object ``1 .. N``: ``name``, ``J`` and ``J_last``,
        each ``(mean, recall, decay)`` as
        :func:`~mmhvc.evaluation.functional.db_statistics` computes them.

    Raises:
        ValueError: The first annotated frame holds no object, fewer than
            3 frames are annotated or the shapes differ.
    """
    num_objects = vost_num_objects(gt[0])
    if num_objects == 0:
        raise ValueError(f'sequence {seq_name!r}: the first annotated frame '
                         'holds no object')
    jaccard = vost_frame_jaccard(gt, pred, num_objects)
    start = last_quarter_start(jaccard.shape[1])
    return [
        dict(
            name=f'{seq_name}_{obj_id}',
            J=db_statistics(jaccard[obj_id - 1]),
            J_last=db_statistics(jaccard[obj_id - 1, start:]))
        for obj_id in range(1, num_objects + 1)
    ]


def vost_summary(objects: Sequence[Dict]) -> Dict[str, float]:
    """The global measures: each statistic averaged over the objects.

    Args:
        objects: The per-object dicts of :func:`vost_object_statistics`,
            over all sequences.

    Returns:
        ``J-Mean``, ``J-Recall``, ``J-Decay``, ``J_last-Mean``,
        ``J_last-Recall``, ``J_last-Decay`` (an ordered dict).
    """
    if not objects:
        raise ValueError('VOST: no object was scored')
    stats = np.array([tuple(obj['J']) + tuple(obj['J_last'])
                      for obj in objects])
    return OrderedDict(
        (name, float(value))
        for name, value in zip(GLOBAL_COLUMNS, stats.mean(axis=0)))


def vost_tables(
    objects: Sequence[Dict]
) -> Tuple[List[List[str]], List[List[str]]]:
    """The global and the per-sequence table, values with 3 decimals.

    Args:
        objects: The per-object dicts of :func:`vost_object_statistics`,
            over all sequences, in the order to list them.

    Returns:
        ``(global_rows, sequence_rows)``, header row first: the
        :func:`vost_summary` values in one row, and one row
        ``<seq>_<id>, J-Mean, J_last-Mean`` per object.
    """
    summary = vost_summary(objects)
    global_rows = [
        list(GLOBAL_COLUMNS),
        [f'{summary[name]:.3f}' for name in GLOBAL_COLUMNS],
    ]
    sequence_rows = [list(SEQUENCE_COLUMNS)] + [[
        obj['name'], f'{obj["J"][0]:.3f}', f'{obj["J_last"][0]:.3f}'
    ] for obj in objects]
    return global_rows, sequence_rows
