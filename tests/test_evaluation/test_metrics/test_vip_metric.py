import csv
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement
from PIL import Image

from mmhvc.evaluation.metrics.vip_metric import VIPMetric
from mmhvc.registry import METRICS

GT = np.array([[0, 0, 1, 1], [2, 2, 255, 1]], dtype=np.uint8)
PRED = np.array([[0, 1, 1, 1], [2, 0, 0, 1]], dtype=np.uint8)
CLASSES = ('background', 'hat', 'hair', 'face')


def make_sample(seq_name, pred, gt, **metainfo):
    info = dict(
        seq_name=seq_name,
        frame_names=[f'{i:05d}' for i in range(len(pred))],
        given_frames=[0],
        split='val')
    info.update(metainfo)
    sample = BaseDataElement(metainfo=info)
    sample.pred_masks = torch.from_numpy(np.stack(pred))
    sample.gt_masks = torch.from_numpy(np.stack(gt))
    return sample


def video_a():
    """Frame 0 perfect, frame 1 the prediction of the functional test."""
    perfect = np.where(GT == 255, 0, GT).astype(np.uint8)
    return make_sample('a', [perfect, PRED], [GT, GT])


def video_b():
    """One frame of class 3 with one pixel missed."""
    gt = np.full((2, 4), 3, dtype=np.uint8)
    pred = gt.copy()
    pred[0, 0] = 0
    return make_sample('b', [pred], [gt])


def evaluate(metric, samples):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.reader(f))


def test_miou_accumulates_over_frames_and_videos(tmp_path):
    metric = VIPMetric(num_classes=4, output_dir=str(tmp_path))
    result = evaluate(metric, [video_a(), video_b()])
    # video a: frame 0 counts I = U = (2, 3, 2), frame 1 I = (1, 3, 1) and
    # U = (3, 4, 2); video b: class 0 I = 0, U = 1, class 3 I = 7, U = 8
    iou = np.array([3 / 6, 6 / 7, 3 / 4, 7 / 8])
    assert result['vip/mIoU'] == pytest.approx(iou.mean())

    rows = read_csv(osp.join(tmp_path, 'per-class_results-val.csv'))
    assert rows[0] == ['Class', 'IoU']
    assert [r[0] for r in rows[1:]] == list(CLASSES)
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], iou, atol=5e-4)
    rows = read_csv(osp.join(tmp_path, 'per-sequence_results-val.csv'))
    video_a_iou = np.array([3 / 5, 6 / 7, 3 / 4])
    assert rows == [['Sequence', 'mIoU'], ['a', f'{video_a_iou.mean():.3f}'],
                    ['b', f'{(0 + 7 / 8) / 2:.3f}']]
    assert read_csv(osp.join(
        tmp_path, 'global_results-val.csv')) == [['mIoU'],
                                                 [f'{iou.mean():.3f}']]


def test_given_frames_can_be_left_out():
    metric = VIPMetric(num_classes=4, score_given_frames=False)
    result = evaluate(metric, [video_a(), video_b()])
    # only frame 1 of video a is scored; class 3 never occurs
    assert result['vip/mIoU'] == pytest.approx((1 / 3 + 3 / 4 + 1 / 2) / 3)


def test_resized_prediction_is_scored_at_annotation_size(tmp_path):
    small = np.array([[1, 1, 0, 2], [0, 0, 0, 2]], dtype=np.uint8)
    gt = np.kron(small, np.ones((2, 2), dtype=np.uint8))
    gt[3, 7] = 1  # one pixel the upsampled prediction misses
    sample = make_sample(
        'c', [small], [gt], img_shape=(2, 4), ori_shape=(4, 8))
    metric = VIPMetric(num_classes=3, output_dir=str(tmp_path))
    result = evaluate(metric, [sample])
    # class 0: 16 pixels each, all shared; class 1: 8 predicted, 9
    # annotated; class 2: 8 predicted, 7 annotated
    iou = np.array([16 / 16, 8 / 9, 7 / 8])
    assert result['vip/mIoU'] == pytest.approx(iou.mean())
    saved = np.asarray(Image.open(osp.join(tmp_path, 'c', '00000.png')))
    np.testing.assert_array_equal(saved,
                                  np.kron(small, np.ones((2, 2), np.uint8)))


def test_unexplained_size_mismatch_is_an_error():
    gt = np.zeros((4, 8), dtype=np.uint8)
    sample = make_sample('c', [np.zeros((2, 4), np.uint8)], [gt])
    with pytest.raises(ValueError, match="'c'.*do not match"):
        VIPMetric(num_classes=3).process(None, [sample])


def test_out_of_range_prediction_names_the_video():
    sample = make_sample('bad', [np.full((2, 4), 7, np.uint8)], [GT])
    with pytest.raises(ValueError, match=r"'bad'.*class ids \[7\]"):
        VIPMetric(num_classes=4).process(None, [sample])


def test_built_from_registry_without_output_dir(tmp_path):
    metric = METRICS.build(dict(type='VIPMetric', num_classes=4))
    assert isinstance(metric, VIPMetric)
    assert metric.prefix == 'vip'
    assert list(evaluate(metric, [video_b().to_dict()])) == ['vip/mIoU']
    assert not list(tmp_path.iterdir())
