import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement
from PIL import Image

from mmhvc.evaluation import DAVISMetric
from mmhvc.registry import METRICS

SIZE = 16


def box(rows, cols, value):
    mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    mask[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = value
    return mask


def make_sample(seq_name, gt, pred, as_dict=False, split='val'):
    """A propagation output for one sequence, as the model returns it."""
    num_frames = len(pred)
    metainfo = dict(
        seq_name=seq_name,
        frame_names=[f'{i:05d}' for i in range(num_frames)],
        ori_shape=(SIZE, SIZE),
        object_ids=[1, 2],
        given_frames=[0],
        palette=None,
        split=split)
    sample = BaseDataElement(metainfo=metainfo)
    sample.pred_masks = torch.from_numpy(np.stack(pred))
    if gt is not None:
        sample.gt_masks = torch.from_numpy(np.stack(gt))
    return sample.to_dict() if as_dict else sample


def sequence_a():
    """5 frames, two objects, scored on frames 1-3 only.

    Object 1 is perfect; object 2 is found in frame 1 and lost in frames 2
    and 3. The first frame is wrong and the last holds an id (3) that the
    annotation lacks: both must be ignored.
    """
    gt_frame = box((1, 4), (1, 4), 1) + box((9, 12), (9, 12), 2)
    gt = [gt_frame] * 5
    lost = box((1, 4), (1, 4), 1)
    pred = [np.zeros_like(gt_frame), gt_frame, lost, lost, gt_frame.copy()]
    pred[4][0, 15] = 3
    return gt, pred


def sequence_b():
    """3 frames (frame 1 scored): object 2 never predicted, void as object.

    Object 1 (a 4 x 4 square) is predicted together with the 2 x 4 void
    region: J = 16 / 24. Its boundary gains the 12-pixel ring of the void
    block, far from the square: precision 16 / 28, recall 1.
    """
    gt_frame = box((2, 5), (2, 5), 1) + box((10, 13), (2, 5), 2)
    gt_frame[10:12, 10:14] = 255
    pred_frame = box((2, 5), (2, 5), 1)
    pred_frame[10:12, 10:14] = 1
    return [gt_frame] * 3, [pred_frame] * 3


def f_from(precision, recall):
    return 2 * precision * recall / (precision + recall)


F_B1 = f_from(16 / 28, 1.0)
# Per object (J-Mean, J-Recall, J-Decay); F equals J except for seqB_1.
# Object A2 has J = (1, 0, 0): decay bins frames 0-1 and frame 2.
EXPECTED_J = {
    'seqA_1': (1, 1, 0),
    'seqA_2': (1 / 3, 1 / 3, 0.5),
    'seqB_1': (2 / 3, 1, 0),
    'seqB_2': (0, 0, 0),
}
EXPECTED_F = dict(EXPECTED_J, seqB_1=(F_B1, 1, 0))


def run_metric(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_davis_metric_values(tmp_path):
    gt_a, pred_a = sequence_a()
    gt_b, pred_b = sequence_b()
    metric = DAVISMetric(output_dir=str(tmp_path))
    # One sample as a data element, one as the evaluator's dict.
    results = run_metric(metric, [
        make_sample('seqA', gt_a, pred_a),
        make_sample('seqB', gt_b, pred_b, as_dict=True)
    ])
    j = np.mean(list(EXPECTED_J.values()), axis=0)
    f = np.mean(list(EXPECTED_F.values()), axis=0)
    expected = {
        'J&F-Mean': (j[0] + f[0]) / 2,
        'J-Mean': j[0],
        'J-Recall': j[1],
        'J-Decay': j[2],
        'F-Mean': f[0],
        'F-Recall': f[1],
        'F-Decay': f[2],
    }
    # MMEngine prefixes the names with the metric's default prefix.
    assert list(results) == [f'davis/{name}' for name in expected]
    for name, value in expected.items():
        assert isinstance(results[f'davis/{name}'], float)
        assert results[f'davis/{name}'] == pytest.approx(value), name
    assert results['davis/J-Mean'] == pytest.approx(0.5)
    assert results['davis/J-Decay'] == pytest.approx(0.125)

    global_csv = tmp_path / 'global_results-val.csv'
    sequence_csv = tmp_path / 'per-sequence_results-val.csv'
    lines = global_csv.read_text().splitlines()
    assert lines[0] == ('J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,'
                        'F-Decay')
    assert lines[1] == ','.join(f'{v:.3f}' for v in expected.values())
    lines = sequence_csv.read_text().splitlines()
    assert lines[0] == 'Sequence,J-Mean,F-Mean'
    assert lines[1:] == [
        f'{name},{EXPECTED_J[name][0]:.3f},{EXPECTED_F[name][0]:.3f}'
        for name in EXPECTED_J
    ]
    # The two CSV files and a complete folder per sequence, no temporary
    # leftovers.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'global_results-val.csv', 'per-sequence_results-val.csv', 'seqA',
        'seqB'
    ]
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / 'seqA' / '00002.png')), pred_a[2])


def test_first_and_last_frames_excluded():
    gt, pred = sequence_a()
    # Fix the last frame's extra id: scoring all five frames would now be
    # possible and would give object 1 a J of 0 in frame 0.
    pred[4] = gt[4]
    results = run_metric(DAVISMetric(), [make_sample('seqA', gt, pred)])
    assert results['davis/J-Mean'] == pytest.approx((1 + 1 / 3) / 2)


def test_more_predicted_objects_is_an_error():
    gt, pred = sequence_a()
    pred[2] = pred[2].copy()
    pred[2][15, 0] = 3
    metric = DAVISMetric()
    with pytest.raises(ValueError, match="'seqA'.*object id 3"):
        metric.process({}, [make_sample('seqA', gt, pred)])


def test_missing_ground_truth():
    _, pred = sequence_a()
    with pytest.raises(KeyError, match="'seqA' has no gt_masks"):
        DAVISMetric().process({}, [make_sample('seqA', None, pred)])


def test_format_only_writes_masks(tmp_path):
    _, pred = sequence_b()
    metric = DAVISMetric(output_dir=str(tmp_path), format_only=True)
    results = run_metric(metric, [make_sample('seqB', None, pred)])
    assert results == {}
    names = sorted(p.name for p in (tmp_path / 'seqB').iterdir())
    assert names == ['00000.png', '00001.png', '00002.png']
    image = Image.open(tmp_path / 'seqB' / '00001.png')
    assert image.mode == 'P'
    np.testing.assert_array_equal(np.asarray(image), pred[1])
    assert not osp.exists(tmp_path / 'global_results-val.csv')


def test_masks_and_split_argument(tmp_path):
    gt, pred = sequence_b()
    metric = DAVISMetric(output_dir=str(tmp_path), split='test-dev')
    run_metric(metric, [make_sample('seqB', gt, pred, split=None)])
    assert (tmp_path / 'seqB' / '00002.png').is_file()
    assert (tmp_path / 'global_results-test-dev.csv').is_file()
    assert (tmp_path / 'per-sequence_results-test-dev.csv').is_file()


def test_output_dir_required_and_registry(tmp_path):
    _, pred = sequence_b()
    metric = DAVISMetric(format_only=True)
    with pytest.raises(ValueError, match='output_dir'):
        metric.process({}, [make_sample('seqB', None, pred)])
    # The output dir may be filled in after construction.
    metric.output_dir = str(tmp_path)
    metric.process({}, [make_sample('seqB', None, pred)])
    assert (tmp_path / 'seqB' / '00000.png').is_file()
    metric = METRICS.build(dict(type='DAVISMetric', bound_th=2))
    assert isinstance(metric, DAVISMetric)
    assert metric.bound_th == 2


def test_prefix_of_the_metric_names(tmp_path):
    gt, pred = sequence_b()
    assert DAVISMetric().prefix == 'davis'
    results = run_metric(
        DAVISMetric(prefix='val2017'), [make_sample('seqB', gt, pred)])
    assert sorted(results) == sorted(
        f'val2017/{name}' for name in ('J&F-Mean', 'J-Mean', 'J-Recall',
                                       'J-Decay', 'F-Mean', 'F-Recall',
                                       'F-Decay'))


def test_merge_objects_scores_one_foreground(tmp_path):
    # Two objects, swapped by the prediction, which also covers the 2 x 4
    # void block: every object is wrong, the merged foreground holds the
    # 32 object pixels within 40 predicted ones.
    gt_frame = box((2, 5), (2, 5), 1) + box((10, 13), (2, 5), 2)
    gt_frame[10:12, 10:14] = 255
    pred_frame = box((2, 5), (2, 5), 2) + box((10, 13), (2, 5), 1)
    pred_frame[10:12, 10:14] = 1
    sample = make_sample('seqC', [gt_frame] * 3, [pred_frame] * 3)

    per_object = run_metric(DAVISMetric(), [sample])
    assert per_object['davis/J-Mean'] == pytest.approx(0.)

    metric = DAVISMetric(output_dir=str(tmp_path), merge_objects=True)
    merged = run_metric(metric, [sample])
    assert merged['davis/J-Mean'] == pytest.approx(32 / 40)
    rows = (tmp_path / 'per-sequence_results-val.csv').read_text()
    assert [row.split(',')[:2] for row in rows.splitlines()[1:]] == [[
        'seqC_1', f'{32 / 40:.3f}'
    ]]
    written = np.asarray(Image.open(tmp_path / 'seqC' / '00001.png'))
    np.testing.assert_array_equal(written, (pred_frame > 0).astype(np.uint8))
