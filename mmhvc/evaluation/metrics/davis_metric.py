"""DAVIS semi-supervised video object segmentation metric (J&F)."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional

import numpy as np
from mmengine.logging import MMLogger, print_log

from mmhvc.registry import METRICS
from ..functional import (db_statistics, evaluate_semisupervised,
                          merge_objects)
from ..functional.davis_measures import DEFAULT_BOUND_TH, VOID_LABEL
from .base_video_metric import BaseVideoMetric
from .prediction_files import read_label_maps, save_label_maps
from .video_samples import get_label_maps, get_meta

GLOBAL_COLUMNS = ('J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean',
                  'F-Recall', 'F-Decay')
SEQUENCE_COLUMNS = ('Sequence', 'J-Mean', 'F-Mean')


@METRICS.register_module()
class DAVISMetric(BaseVideoMetric):
    """J&F of the DAVIS semi-supervised benchmark.

    Follows the official ``davis2017-evaluation`` protocol: the objects of a
    sequence are the ids 1 .. N, N the largest id in the first annotated
    frame; the first and the last frame are excluded; void pixels (255) count
    as background; an object absent from the prediction is scored against an
    empty mask, and an id above N in the prediction is an error. Each object
    gets the mean, recall and decay of its per-frame J (region IoU) and F
    (boundary F-measure); the reported numbers are means over all objects of
    all sequences, in [0, 1], and ``J&F-Mean`` is the average of ``J-Mean``
    and ``F-Mean``.

    Each sample is one whole sequence with ``pred_masks`` and ``gt_masks``
    ``(T, H, W)`` label maps (object ids, 0 background, 255 void in the
    annotation) and the metainfo ``seq_name``, ``frame_names``, ``palette``
    and, optionally, ``split``. Only the per-object statistics are kept
    between ``process`` and ``compute_metrics``.

    With ``output_dir`` set, the predicted masks are written as
    ``<output_dir>/<seq>/<frame>.png`` (indexed PNGs with the dataset's
    palette), one folder per sequence, and ``compute_metrics`` writes
    ``global_results-<split>.csv`` and ``per-sequence_results-<split>.csv``
    in the official layout (values with three decimals, one row per object
    named ``<seq>_<id>``).

    With ``merge_objects`` (DAVIS-2016), the prediction and the annotation
    of each sequence are merged into one foreground object (every id > 0
    becomes 1, void stays void) before they are written and scored, as the
    DAVIS-2016 evaluation reads them (see
    :func:`~mmhvc.evaluation.functional.merge_objects`). The objects are
    still propagated one label channel each.

    Args:
        bound_th (float): Boundary tolerance: a fraction of the image
            diagonal when < 1, whole pixels otherwise. Defaults to 0.008.
        split (str, optional): Split name used in the CSV file names. When
            None, the ``split`` metainfo of the samples is used, and the
            names carry no split when the samples have none.
        output_dir (str, optional): Where the masks and the CSV files are
            written; set by ``VideoTestLoop`` at test time when None.
            Defaults to None.
        format_only (bool): Only write the predicted masks (for a test
            server); no ground truth is needed and no metric is returned.
            Defaults to False.
        merge_objects (bool): Merge the objects of the prediction and the
            annotation into one foreground (id 1) before writing and
            scoring: the DAVIS-2016 single-object protocol. Defaults to
            False.
        collect_device (str): Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names, which MMEngine
            returns and logs as ``<prefix>/J&F-Mean`` and so on. Defaults to
            None: ``default_prefix``, ``'davis'``.
    """

    default_prefix = 'davis'

    def __init__(self,
                 bound_th: float = DEFAULT_BOUND_TH,
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 merge_objects: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(split, output_dir, collect_device, prefix)
        self.bound_th = bound_th
        self.format_only = format_only
        self.merge_objects = merge_objects

    @property
    def needs_ground_truth(self) -> bool:
        """Scoring needs the annotations unless it only writes masks."""
        return not self.format_only

    def _prediction(self, sample: dict) -> np.ndarray:
        """``pred_masks``, merged into one object with ``merge_objects``."""
        pred = get_label_maps(sample, 'pred_masks')
        return merge_objects(pred) if self.merge_objects else pred

    def write_sequence(self, sample: dict, folder: str) -> None:
        """Write the predicted masks of one sequence, a PNG per frame."""
        pred = self._prediction(sample)
        save_label_maps(folder, pred, get_meta(sample, 'frame_names'),
                        range(pred.shape[0]), sample.get('palette'))

    def read_sequence(self, folder: str, sample: dict) -> dict:
        """``pred_masks``: the masks of every frame of the sequence."""
        return dict(pred_masks=read_label_maps(
            folder, get_meta(sample, 'frame_names')))

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Score the objects of one sequence.

        Returns:
            ``objects``: per object, its name ``<seq>_<id>`` and the
            ``(mean, recall, decay)`` of its J and F; empty with
            ``format_only``.
        """
        if self.format_only:
            return dict(objects=[])
        return dict(objects=self._score_sequence(sample,
                                                 self._prediction(sample)))

    def _score_sequence(self, sample: dict,
                        pred: np.ndarray) -> List[Dict[str, Any]]:
        """Per-object statistics ``(mean, recall, decay)`` of J and F."""
        seq_name = sample['seq_name']
        if sample.get('gt_masks') is None:
            raise KeyError(
                f'sequence {seq_name!r} has no gt_masks: DAVISMetric needs '
                'the annotation of every frame (use format_only=True for a '
                'split without ground truth)')
        gt = get_label_maps(sample, 'gt_masks')
        if self.merge_objects:
            gt = merge_objects(gt)
        first = gt[0][gt[0] != VOID_LABEL]
        num_objects = int(first.max()) if first.size else 0
        if num_objects == 0:
            raise ValueError(f'sequence {seq_name!r}: the first annotated '
                             'frame holds no object')
        try:
            jaccard, f_score = evaluate_semisupervised(gt, pred, num_objects,
                                                       self.bound_th)
        except ValueError as e:
            raise ValueError(f'sequence {seq_name!r}: {e}') from e
        return [
            dict(
                name=f'{seq_name}_{obj_id}',
                J=db_statistics(jaccard[obj_id - 1]),
                F=db_statistics(f_score[obj_id - 1]))
            for obj_id in range(1, num_objects + 1)
        ]

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Average the per-object statistics over all objects.

        Args:
            results (list): The gathered ``process`` results, one per
                sequence.

        Returns:
            dict[str, float]: ``J&F-Mean``, ``J-Mean``, ``J-Recall``,
            ``J-Decay``, ``F-Mean``, ``F-Recall``, ``F-Decay`` in [0, 1]
            (decays may be negative); empty with ``format_only``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            print_log(
                f'{len(results)} sequences of predicted masks written to '
                f'{self.output_dir}', logger)
            return OrderedDict()

        objects = [obj for result in results for obj in result['objects']]
        if not objects:
            raise ValueError('DAVISMetric: no sequence was evaluated')
        j_stats = np.array([obj['J'] for obj in objects])
        f_stats = np.array([obj['F'] for obj in objects])
        j_mean, j_recall, j_decay = j_stats.mean(axis=0)
        f_mean, f_recall, f_decay = f_stats.mean(axis=0)
        values = ((j_mean + f_mean) / 2, j_mean, j_recall, j_decay, f_mean,
                  f_recall, f_decay)
        metrics = OrderedDict((name, float(value))
                              for name, value in zip(GLOBAL_COLUMNS, values))

        global_rows = [list(GLOBAL_COLUMNS), [f'{v:.3f}' for v in values]]
        sequence_rows = [list(SEQUENCE_COLUMNS)] + [[
            obj['name'], f'{obj["J"][0]:.3f}', f'{obj["F"][0]:.3f}'
        ] for obj in objects]
        self.report([
            ('Global results', 'global_results', global_rows),
            ('Per-sequence results', 'per-sequence_results', sequence_rows),
        ], results, logger)
        return metrics
