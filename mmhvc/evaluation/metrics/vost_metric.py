"""VOST semi-supervised video object segmentation metric (J, J_last)."""
import os.path as osp
from typing import Dict, Optional

from mmengine.logging import MMLogger

from mmhvc.registry import METRICS
from ..functional.vost_measures import (vost_object_statistics,
                                        vost_summary, vost_tables)
from .base_video_metric import BaseVideoMetric
from .prediction_files import save_label_maps
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

    With ``output_dir`` set, ``compute_metrics`` writes
    ``global_results-<split>.csv`` (``J-Mean, J-Recall, J-Decay,
    J_last-Mean, J_last-Recall, J_last-Decay``) and
    ``per-sequence_results-<split>.csv`` (``Sequence, J-Mean,
    J_last-Mean``, one row ``<seq>_<id>`` per object), three decimals.

    Args:
        split: Split name in the CSV file names; when None, the ``split``
            metainfo of the samples.
        output_dir: Where the CSV files and, with ``save_masks``, the
            predicted masks of the annotated frames
            (``<output_dir>/<seq>/<frame>.png``, indexed PNGs named like
            the annotations) are written. Filled in by ``ResultDirHook`` at
            test time when None.
        save_masks: Write the predicted masks of the annotated frames.
        collect_device: Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``.
        prefix: Prefix of the metric names; ``'vost'`` when None.
    """

    default_prefix = 'vost'

    def __init__(self,
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 save_masks: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(split, output_dir, collect_device, prefix)
        self.save_masks = save_masks

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Write the masks of one sequence's annotated frames and score its
        objects.

        Returns:
            ``objects``: per object, its name ``<seq>_<id>`` and the
            ``(mean, recall, decay)`` of its J and J_last.
        """
        pred = get_label_maps(sample, 'pred_masks')
        frames = [int(t) for t in get_meta(sample, 'gt_frames')]
        if self.save_masks:
            output_dir = self.require_output_dir(
                'to write the predicted masks (save_masks)')
            save_label_maps(
                osp.join(output_dir, seq_name), pred,
                get_meta(sample, 'frame_names'), frames,
                sample.get('palette'))
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
