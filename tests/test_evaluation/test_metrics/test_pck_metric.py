import csv
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.evaluation.metrics.pck_metric import PCKMetric
from mmhvc.registry import METRICS

JOINTS = np.array([[0., 0.], [30., 40.], [10., 10.]])  # reference size 30
NAMES = ('neck', 'belly', 'face')


def make_sample(seq_name, pred, found, gt, visible):
    sample = BaseDataElement(
        metainfo=dict(seq_name=seq_name, given_frames=[0], split='split1'))
    sample.pred_keypoints = torch.tensor(np.stack(pred), dtype=torch.float32)
    sample.pred_visible = torch.tensor(np.stack(found))
    sample.gt_keypoints = torch.tensor(np.stack(gt), dtype=torch.float32)
    sample.gt_visible = torch.tensor(np.stack(visible))
    return sample


def video_p():
    """Frame 1: errors of 0.1, 0.2 and 0.3 sizes; frame 2: joint 0 exact,
    joint 1 lost, joint 2 not annotated."""
    gt2 = JOINTS.copy()
    gt2[2] = np.nan
    pred1 = JOINTS + [[3., 0.], [0., 6.], [0., 9.]]
    pred2 = JOINTS.copy()
    pred2[1] = np.nan
    return make_sample('p', [JOINTS, pred1, pred2],
                       [[True] * 3, [True] * 3, [True, False, True]],
                       [JOINTS, JOINTS, gt2],
                       [[True] * 3, [True] * 3, [True, True, False]])


def video_q():
    """Frame 1 exact."""
    return make_sample('q', [JOINTS, JOINTS], [[True] * 3] * 2,
                       [JOINTS, JOINTS], [[True] * 3] * 2)


def evaluate(metric, samples):
    metric.dataset_meta = dict(joint_names=NAMES)
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.reader(f))


def video_r():
    """Frame 1: the face is lost, so the box spans neck and belly only
    (size 30, where all three joints would give 60); the neck is 4.5
    pixels off, the belly exact."""
    gt = np.array([[0., 0.], [30., 40.], [60., 80.]])
    pred = gt + [[4.5, 0.], [0., 0.], [np.nan, np.nan]]
    return make_sample('r', [gt, pred], [[True] * 3, [True, True, False]],
                       [gt, gt], [[True] * 3] * 2)


def test_pck_crw_protocol_by_hand():
    result = evaluate(PCKMetric(), [video_p(), video_q(), video_r()])
    # Scored instances (distance in reference sizes):
    # neck: p1 0.1; p2 alone in its frame (belly lost, face not annotated),
    #       a zero-size box, so wrong; q1 0; r1 4.5 / 30 = 0.15
    # belly: p1 0.2 (p2 lost: skipped); q1 0; r1 0
    # face: p1 0.3; q1 0 (r1 lost: skipped)
    assert result['pck/PCK@0.1'] == pytest.approx((2 / 4 + 2 / 3 + 1 / 2) / 3)
    assert result['pck/PCK@0.2'] == pytest.approx((3 / 4 + 3 / 3 + 1 / 2) / 3)


def test_pck_strict_protocol_on_the_crw_cases():
    result = evaluate(
        PCKMetric(protocol='strict'), [video_p(), video_q(), video_r()])
    # neck: 0.1, 0 (p2: box of neck and belly), 0, 4.5 / 60
    # belly: 0.2, lost, 0, 0; face: 0.3, 0, lost
    assert result['pck/PCK@0.1'] == pytest.approx((4 / 4 + 2 / 4 + 1 / 3) / 3)
    assert result['pck/PCK@0.2'] == pytest.approx((4 / 4 + 3 / 4 + 1 / 3) / 3)
    with pytest.raises(ValueError, match="protocol.*'loose'"):
        PCKMetric(protocol='loose')


def test_pck_strict_by_hand(tmp_path):
    metric = PCKMetric(output_dir=str(tmp_path), protocol='strict')
    result = evaluate(metric, [video_p(), video_q()])
    # per joint over the scored instances (the given frames are not scored):
    # neck 3/3 and 3/3, belly 1/3 and 2/3, face 1/2 and 1/2
    assert result['pck/PCK@0.1'] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert result['pck/PCK@0.2'] == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)

    rows = read_csv(osp.join(tmp_path, 'per-joint_results-split1.csv'))
    assert rows == [['Joint', 'PCK@0.1', 'PCK@0.2'],
                    ['neck', '1.000', '1.000'], ['belly', '0.333', '0.667'],
                    ['face', '0.500', '0.500']]
    rows = read_csv(osp.join(tmp_path, 'per-sequence_results-split1.csv'))
    # video p: neck 2/2, belly 0/2 (0.2 error, then lost), face 0/1 at 0.1
    assert rows == [['Sequence', 'PCK@0.1', 'PCK@0.2'],
                    ['p', f'{1 / 3:.3f}', '0.500'], ['q', '1.000', '1.000']]
    assert read_csv(osp.join(tmp_path, 'global_results-split1.csv')) == [[
        'PCK@0.1', 'PCK@0.2'
    ], [f'{(1 + 1 / 3 + 1 / 2) / 3:.3f}', f'{(1 + 2 / 3 + 1 / 2) / 3:.3f}']]


def test_given_frame_scored_on_request():
    far = JOINTS + 100.
    sample = make_sample('v', [JOINTS, far], [[True] * 3] * 2,
                         [JOINTS, JOINTS], [[True] * 3] * 2)
    assert evaluate(PCKMetric(), [sample])['pck/PCK@0.1'] == 0
    assert evaluate(PCKMetric(score_given_frames=True),
                    [sample])['pck/PCK@0.1'] == pytest.approx(0.5)


def test_shape_mismatch_names_the_video():
    sample = make_sample('v', [JOINTS[:2]] * 2, [[True] * 2] * 2,
                         [JOINTS, JOINTS], [[True] * 3] * 2)
    with pytest.raises(ValueError, match="'v'.*do not match"):
        PCKMetric().process(None, [sample])


def test_built_from_registry_with_other_thresholds():
    metric = METRICS.build(
        dict(type='PCKMetric', thresholds=(0.05, 0.5), protocol='strict'))
    result = evaluate(metric, [video_p().to_dict()])
    # frame 1 errors 0.1, 0.2, 0.3; frame 2 neck exact, belly lost
    assert result == {
        'pck/PCK@0.05': pytest.approx(1 / 6),
        'pck/PCK@0.5': pytest.approx((1 + 1 / 2 + 1) / 3)
    }
