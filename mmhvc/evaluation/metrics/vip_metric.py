"""VIP part propagation metric (mIoU over the part classes)."""
from collections import OrderedDict
from typing import Dict, Optional

import cv2
import numpy as np
from mmengine.logging import MMLogger

from mmhvc.registry import METRICS
from mmhvc.validation import check_at_least
from ..functional.part_miou import intersect_and_union, iou_from_counts
from .base_video_metric import BaseVideoMetric
from .prediction_files import read_label_maps, save_label_maps
from .result_tables import format_score
from .video_samples import get_label_maps, get_meta, scored_frames


@METRICS.register_module()
class VIPMetric(BaseVideoMetric):
    """Mean IoU of propagated part labels (VIP protocol).

    For each class, the intersection and the union of the predicted and the
    annotated regions are summed over every scored frame of every video;
    the class IoU is their ratio and ``mIoU`` is the mean over the classes
    whose union is not empty. Pixels annotated ``ignore_index`` are not
    counted. A per-video mIoU (from that video's counts alone) is reported
    as well.

    Each sample is one video with ``pred_masks`` and ``gt_masks``
    ``(T, H, W)`` class-id maps and the metainfo ``seq_name``,
    ``frame_names``, ``given_frames`` and optionally ``split``. When the
    frames were resized before propagation (metainfo ``img_shape`` equal to
    the prediction's size and ``ori_shape`` to the annotation's), the
    predicted maps are resized to the annotation's size with
    nearest-neighbour interpolation; any other size mismatch is an error.

    With ``output_dir`` set, the predicted maps (at the annotation's size)
    are written as ``<output_dir>/<seq>/<frame>.png``, and
    ``compute_metrics`` writes
    ``global_results[-<split>].csv`` (``mIoU``),
    ``per-class_results[-<split>].csv`` (``Class,IoU``) and
    ``per-sequence_results[-<split>].csv`` (``Sequence,mIoU``).

    Args:
        num_classes: Number of classes, background included (VIP: 20).
        ignore_index: Annotation value of unlabelled pixels.
        score_given_frames: Whether frames that carried a given mask are
            scored. The protocol scores every frame.
        split: Split name in the CSV file names; defaults to the samples'
            ``split`` metainfo.
        output_dir: Folder of the masks and the CSV files; set by
            ``VideoTestLoop`` at test time when None.
        collect_device: Device used to gather results across ranks.
        prefix: Prefix of the metric names, which MMEngine returns and logs
            as ``<prefix>/mIoU``; ``default_prefix``, ``'vip'``, when None.
    """

    default_prefix = 'vip'

    def __init__(self,
                 num_classes: int = 20,
                 ignore_index: int = 255,
                 score_given_frames: bool = True,
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(split, output_dir, collect_device, prefix)
        self.num_classes = check_at_least('num_classes', num_classes, 1)
        self.ignore_index = ignore_index
        self.score_given_frames = score_given_frames

    def write_sequence(self, sample: dict, folder: str) -> None:
        """Write the predicted maps of one video at the annotation's size,
        a PNG per frame."""
        pred = self._prediction_at(sample, self._ground_truth(sample).shape)
        save_label_maps(folder, pred, get_meta(sample, 'frame_names'),
                        range(len(pred)))

    def read_sequence(self, folder: str, sample: dict) -> dict:
        """``pred_masks``: the maps of every frame of the video."""
        return dict(pred_masks=read_label_maps(
            folder, get_meta(sample, 'frame_names')))

    @staticmethod
    def _ground_truth(sample: dict) -> np.ndarray:
        """``gt_masks``, a ``KeyError`` naming the video when absent."""
        if sample.get('gt_masks') is None:
            raise KeyError(f'video {sample.get("seq_name")!r} has no '
                           'gt_masks: VIPMetric needs the label map of every '
                           'frame')
        return get_label_maps(sample, 'gt_masks')

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Count the per-class intersections and unions of one video.

        Returns:
            ``intersection`` and ``union``: ``(num_classes, )`` pixel
            counts over the scored frames.
        """
        gt = self._ground_truth(sample)
        pred = self._prediction_at(sample, gt.shape)
        frames = scored_frames(sample, len(gt), self.score_given_frames)
        try:
            intersection, union = intersect_and_union(
                pred[frames], gt[frames], self.num_classes, self.ignore_index)
        except ValueError as e:
            raise ValueError(f'video {seq_name!r}: {e}') from e
        return dict(intersection=intersection, union=union)

    def _prediction_at(self, sample: dict, shape: tuple) -> np.ndarray:
        """``pred_masks`` at the annotation's ``(T, H, W)`` size."""
        seq_name = sample['seq_name']
        pred = get_label_maps(sample, 'pred_masks')
        if pred.shape == shape:
            return pred
        resized = len(pred) == shape[0] and \
            tuple(sample.get('img_shape', ())) == pred.shape[1:] and \
            tuple(sample.get('ori_shape', ())) == shape[1:]
        if not resized:
            raise ValueError(
                f'video {seq_name!r}: pred_masks {pred.shape} do not match '
                f'gt_masks {shape}, and the metainfo does not record a '
                f'resize from ori_shape {sample.get("ori_shape")} to '
                f'img_shape {sample.get("img_shape")}')
        size = (shape[2], shape[1])
        return np.stack([
            cv2.resize(
                frame.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
            for frame in pred
        ])

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the counts over all videos and compute the IoUs.

        Args:
            results: The gathered ``process`` results, one per video.

        Returns:
            ``mIoU`` in [0, 1].
        """
        if not results:
            raise ValueError('VIPMetric: no video was evaluated')
        logger: MMLogger = MMLogger.get_current_instance()
        iou, miou = iou_from_counts(
            sum(r['intersection'] for r in results),
            sum(r['union'] for r in results))
        names = list((self.dataset_meta or {}).get('classes')
                     or [str(c) for c in range(self.num_classes)])
        if len(names) != self.num_classes:
            names = [str(c) for c in range(self.num_classes)]
        class_rows = [['Class', 'IoU']] + [[name, format_score(value)]
                                           for name, value in zip(names, iou)]
        video_rows = [['Sequence', 'mIoU']] + [[
            r['seq_name'],
            format_score(iou_from_counts(r['intersection'], r['union'])[1])
        ] for r in results]
        self.report([
            ('Per-class results', 'per-class_results', class_rows),
            ('Per-sequence results', 'per-sequence_results', video_rows),
            ('Global results', 'global_results',
             [['mIoU'], [format_score(miou)]]),
        ], results, logger)
        return OrderedDict(mIoU=miou)
