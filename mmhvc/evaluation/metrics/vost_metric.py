"""VOST semi-supervised video object segmentation metric (J, J_last)."""
from typing import Dict, List, Optional

import numpy as np
from mmengine.logging import MMLogger

from mmhvc.registry import METRICS
from ..functional.vost_measures import (vost_object_statistics,
                                        vost_summary, vost_tables)
from .base_video_metric import BaseVideoMetric
from .prediction_files import read_label_maps, save_label_maps
from .video_samples import get_label_maps, get_meta


@METRICS.register_module()
class VOSTMetric(BaseVideoMetric):
    """J and J_last of the VOST benchmark, on its annotated frames.

    The arithmetic is in :mod:`mmhvc.evaluation.functional.vost_measures`
    (the first and the last annotated frame left out, void as background,
    missing objects padded, extra ids ignored, J_last over the last quarter
    of the scored frames).

    Each sample is one whole sequence with ``pred_masks`` and ``gt_masks``,
    ``(T, H, W)`` label maps of all T propagated frames, and the metainfo
    ``seq_name``, ``frame_names``, ``gt_frames`` (the sorted indices of the
    K annotated frames; ``gt_masks`` is read only there), ``palette`` and,
    optionally, ``split``.

    With ``output_dir`` set, the predicted masks of the annotated frames
    are written as ``<output_dir>/<seq>/<frame>.png`` (indexed PNGs named
    like the annotations, the layout the official evaluation reads), and
    ``compute_metrics`` writes
    ``global_results-<split>.csv`` (``J-Mean, J-Recall, J-Decay,
    J_last-Mean, J_last-Recall, J_last-Decay``) and
    ``per-sequence_results-<split>.csv`` (``Sequence, J-Mean,
    J_last-Mean``, one row ``<seq>_<id>`` per object), three decimals.

    Args:
        split: Split name in the CSV file names; when None, the ``split``
            metainfo of the samples.
        output_dir: Where the masks and the CSV files are written; set by
            ``VideoTestLoop`` at test time when None.
        collect_device: Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``.
        prefix: Prefix of the metric names; ``'vost'`` when None.
    """

    default_prefix = 'vost'

    def __init__(self,
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(split, output_dir, collect_device, prefix)

    @staticmethod
    def _annotated(sample: dict) -> List[int]:
        """The indices of the annotated frames."""
        return [int(t) for t in get_meta(sample, 'gt_frames')]

    def write_sequence(self, sample: dict, folder: str) -> None:
        """Write the predicted masks of the annotated frames."""
        save_label_maps(folder, get_label_maps(sample, 'pred_masks'),
                        get_meta(sample, 'frame_names'),
                        self._annotated(sample), sample.get('palette'))

    def read_sequence(self, folder: str, sample: dict) -> dict:
        """``pred_masks``: ``(T, H, W)``, the masks read at the annotated
        frames, 0 elsewhere (not scored)."""
        names = list(get_meta(sample, 'frame_names'))
        frames = self._annotated(sample)
        masks = read_label_maps(folder, [names[t] for t in frames])
        pred = np.zeros((len(names), ) + masks.shape[1:], np.uint8)
        pred[frames] = masks
        return dict(pred_masks=pred)

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Score the objects of one sequence on its annotated frames.

        Returns:
            ``objects``: per object, its name ``<seq>_<id>`` and the
            ``(mean, recall, decay)`` of its J and J_last.
        """
        pred = get_label_maps(sample, 'pred_masks')
        frames = self._annotated(sample)
        if sample.get('gt_masks') is None:
            raise KeyError(
                f'sequence {seq_name!r} has no gt_masks: VOSTMetric needs '
                'the annotations (LoadSparseAnnotations in the pipeline)')
        gt = get_label_maps(sample, 'gt_masks')
        try:
            return dict(objects=vost_object_statistics(
                seq_name, gt[frames], pred[frames]))
        except (ValueError, IndexError) as e:
            raise ValueError(f'sequence {seq_name!r}: {e}') from e

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Average the per-object statistics over all objects.

        Returns:
            ``J-Mean``, ``J-Recall``, ``J-Decay``, ``J_last-Mean``,
            ``J_last-Recall``, ``J_last-Decay``, fractions (decays may be
            negative).
        """
        objects = [obj for result in results for obj in result['objects']]
        global_rows, sequence_rows = vost_tables(objects)
        self.report([
            ('Global results', 'global_results', global_rows),
            ('Per-sequence results', 'per-sequence_results', sequence_rows),
        ], results, MMLogger.get_current_instance())
        return vost_summary(objects)
