"""JHMDB pose propagation metric (PCK)."""
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np

from mmengine.logging import MMLogger

from mmhvc.fileio import atomic_write_text
from mmhvc.registry import METRICS
from ..functional.pck import (DEFAULT_SIZE_SCALE, PROTOCOLS,
                              normalized_distances, pck_counts,
                              pck_from_counts)
from .base_video_metric import BaseVideoMetric
from .result_tables import format_score
from .video_samples import get_array, scored_frames


@METRICS.register_module()
class PCKMetric(BaseVideoMetric):
    """Percentage of correct keypoints of propagated joints (JHMDB).

    A scored joint is correct at threshold ``alpha`` when the distance
    between the predicted and annotated positions is at most ``alpha``
    times the frame's reference size, ``size_scale`` (0.6) times the
    diagonal of a box around the frame's annotated joints. PCK is computed
    per joint over all scored instances of the dataset and averaged over
    the joints (see :mod:`mmhvc.evaluation.functional.pck`). By default the
    given frame is not scored.

    ``protocol='crw'`` (the default) scores as CRW's ``eval_pck``, the
    script behind the published numbers: every annotated joint (for JHMDB
    all 15, inside the frame or not) is scored unless the prediction lost
    it, a lost joint being skipped rather than counted wrong, and the box
    spans the annotated positions of the joints that have a prediction.
    ``protocol='strict'`` scores every annotated joint, counts a lost one as
    wrong and boxes all annotated joints.

    Each sample is one video with ``pred_keypoints`` (``(T, J, 2)``),
    ``pred_visible`` (``(T, J)``), ``gt_keypoints`` and ``gt_visible`` (same
    shapes, ``(x, y)`` pixels of the original frame) and the metainfo
    ``seq_name``, ``given_frames`` and optionally ``split``.

    With ``output_dir`` set, the predictions of each video are written to
    ``<output_dir>/<seq>/keypoints.json``: ``keypoints``, ``(T, J, 2)``
    pixel positions (null where a joint was lost), and ``visible``,
    ``(T, J)`` booleans; ``compute_metrics`` writes
    ``global_results[-<split>].csv``, ``per-joint_results[-<split>].csv``
    and ``per-sequence_results[-<split>].csv`` (one ``PCK@<alpha>`` column
    per threshold).

    Args:
        thresholds: The ``alpha`` values; the protocol reports 0.1 and 0.2.
        size_scale: Factor of the box diagonal giving the reference size.
        score_given_frames: Whether the given frame is scored.
        protocol: ``'crw'`` or ``'strict'``, see above.
        split: Split name in the CSV file names; defaults to the samples'
            ``split`` metainfo.
        output_dir: Folder of the keypoint files and the CSV files; set by
            ``VideoTestLoop`` at test time when None.
        collect_device: Device used to gather results across ranks.
        prefix: Prefix of the metric names, which MMEngine returns and logs
            as ``<prefix>/PCK@0.1`` and so on; ``default_prefix``,
            ``'pck'``, when None.
    """

    default_prefix = 'pck'

    #: The file of a video's predicted keypoints in its results folder.
    KEYPOINT_FILE = 'keypoints.json'

    def __init__(self,
                 thresholds: Sequence[float] = (0.1, 0.2),
                 size_scale: float = DEFAULT_SIZE_SCALE,
                 score_given_frames: bool = False,
                 protocol: str = 'crw',
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(split, output_dir, collect_device, prefix)
        if not thresholds or min(thresholds) <= 0:
            raise ValueError(f'thresholds must be positive, got {thresholds}')
        self.thresholds = tuple(float(a) for a in thresholds)
        self.size_scale = size_scale
        self.score_given_frames = score_given_frames
        if protocol not in PROTOCOLS:
            raise ValueError(f'PCKMetric protocol must be one of '
                             f'{PROTOCOLS}, got {protocol!r}')
        self.protocol = protocol

    def write_sequence(self, sample: dict, folder: str) -> None:
        """Write the predicted keypoints of one video as JSON (exact: every
        float32 position is written with the digits that read it back)."""
        pred = get_array(sample, 'pred_keypoints', 3).astype(np.float32)
        found = get_array(sample, 'pred_visible', 2).astype(bool)
        keypoints = [[[float(v) if np.isfinite(v) else None for v in joint]
                      for joint in frame] for frame in pred]
        atomic_write_text(
            osp.join(folder, self.KEYPOINT_FILE),
            json.dumps(dict(keypoints=keypoints, visible=found.tolist())),
            durable=False)

    def read_sequence(self, folder: str, sample: dict) -> dict:
        """``pred_keypoints`` and ``pred_visible`` of one video."""
        path = osp.join(folder, self.KEYPOINT_FILE)
        if not osp.isfile(path):
            raise FileNotFoundError(f'keypoint results not found: {path}')
        try:
            with open(path, encoding='utf-8') as f:
                content = json.load(f)
            pred = np.array(content['keypoints'], dtype=np.float64)
            found = np.array(content['visible'], dtype=bool)
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f'{path} is not a keypoint results file '
                             f'("keypoints" and "visible" arrays): {e}') \
                from e
        if pred.ndim != 3 or pred.shape[2] != 2 or \
                found.shape != pred.shape[:2]:
            raise ValueError(
                f'{path}: "keypoints" must be (T, J, 2) and "visible" (T, '
                f'J), got {pred.shape} and {found.shape}')
        return dict(
            pred_keypoints=pred.astype(np.float32), pred_visible=found)

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Count the correct and the scored joints of one video.

        Returns:
            ``correct``: ``(A, J)`` joints within each of the A thresholds,
            and ``total``: ``(J, )`` scored joints, over the scored frames.
        """
        pred = get_array(sample, 'pred_keypoints', 3)
        found = get_array(sample, 'pred_visible', 2).astype(bool)
        gt = get_array(sample, 'gt_keypoints', 3)
        visible = get_array(sample, 'gt_visible', 2).astype(bool)
        if pred.shape != gt.shape:
            raise ValueError(
                f'video {seq_name!r}: pred_keypoints {pred.shape} do not '
                f'match gt_keypoints {gt.shape}')
        frames = scored_frames(sample, len(gt), self.score_given_frames)
        try:
            distances = normalized_distances(pred[frames], found[frames],
                                             gt[frames], visible[frames],
                                             self.size_scale, self.protocol)
        except ValueError as e:
            raise ValueError(f'video {seq_name!r}: {e}') from e
        correct, total = pck_counts(distances, self.thresholds)
        return dict(correct=correct, total=total)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the counts over all videos and compute PCK.

        Args:
            results: The gathered ``process`` results, one per video.

        Returns:
            ``PCK@<alpha>`` for each threshold, in [0, 1].
        """
        if not results:
            raise ValueError('PCKMetric: no video was evaluated')
        num_joints = {len(r['total']) for r in results}
        if len(num_joints) != 1:
            raise ValueError(f'PCKMetric: the videos have different numbers '
                             f'of joints {sorted(num_joints)}')
        logger: MMLogger = MMLogger.get_current_instance()
        per_joint, mean = pck_from_counts(
            sum(r['correct'] for r in results),
            sum(r['total'] for r in results))
        names = list((self.dataset_meta or {}).get('joint_names') or [])
        if len(names) != per_joint.shape[1]:
            names = [f'joint_{j}' for j in range(per_joint.shape[1])]
        columns = [f'PCK@{alpha:g}' for alpha in self.thresholds]
        joint_rows = [['Joint'] + columns
                      ] + [[name] + [format_score(v) for v in per_joint[:, j]]
                           for j, name in enumerate(names)]
        video_rows = [['Sequence'] + columns] + [[r['seq_name']] + [
            format_score(v)
            for v in pck_from_counts(r['correct'], r['total'])[1]
        ] for r in results]
        self.report([
            ('Per-joint results', 'per-joint_results', joint_rows),
            ('Per-sequence results', 'per-sequence_results', video_rows),
            ('Global results', 'global_results',
             [columns, [format_score(v) for v in mean]]),
        ], results, logger)
        return OrderedDict(
            (column, float(value)) for column, value in zip(columns, mean))
