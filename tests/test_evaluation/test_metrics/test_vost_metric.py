import csv
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement
from PIL import Image

from mmhvc.evaluation import VOSTMetric
from mmhvc.registry import METRICS

VOID = 255


def make_sample(seq_name, gt, pred, gt_frames, with_gt=True):
    """A propagation output for one video whose ``gt_frames`` are
    annotated; the other frames of ``gt`` are void."""
    metainfo = dict(
        seq_name=seq_name,
        frame_names=[f'{2 * t:05d}' for t in range(len(pred))],
        gt_frames=gt_frames,
        given_frames=[0],
        palette=None,
        split='val')
    sample = BaseDataElement(metainfo=metainfo)
    sample.pred_masks = torch.from_numpy(pred)
    if with_gt:
        sample.gt_masks = torch.from_numpy(gt)
    return sample


def video_a():
    """7 frames, annotated at 0, 2, 4, 6 (scored: 2 and 4) on a 1 x 4
    row; object 1 only. Frames without annotation are void and their
    prediction is ignored."""
    gt = np.full((7, 1, 4), VOID, dtype=np.uint8)
    pred = np.ones((7, 1, 4), dtype=np.uint8)   # unannotated: anything
    gt[[0, 2, 4, 6]] = [[1, 1, 0, 0]]
    pred[2] = [[1, 1, 0, 0]]                    # J = 1
    pred[4] = [[1, 0, 0, 0]]                    # J = 1 / 2
    return gt, pred, [0, 2, 4, 6]


def video_b():
    """4 frames, annotated at 0, 1, 3 (scored: 1); objects 1 and 2, void
    on one pixel; object 2 is never predicted."""
    gt = np.full((4, 1, 4), VOID, dtype=np.uint8)
    gt[0] = [[1, 2, 0, 0]]
    gt[1] = [[1, 2, 0, VOID]]
    gt[3] = [[1, 2, 0, 0]]
    pred = np.zeros((4, 1, 4), dtype=np.uint8)
    pred[1] = [[1, 0, 0, 1]]                    # obj 1: 1 / 2 (void)
    return gt, pred, [0, 1, 3]


class GroundTruth:
    """A dataset stand-in: videos a and b with their annotations."""

    videos = dict(a=video_a, b=video_b)

    def __len__(self):
        return 2

    def get_data_info(self, index):
        return dict(seq_name='ab'[index])

    def __getitem__(self, index):
        name = 'ab'[index]
        gt, pred, frames = self.videos[name]()
        sample = make_sample(name, gt, pred, frames)
        del sample.pred_masks
        return dict(inputs=None, data_samples=sample)


def read_csv(path):
    with open(path) as f:
        return list(csv.reader(f))


def test_scores_annotated_frames_and_writes_csvs_and_masks(tmp_path):
    out = str(tmp_path / 'results')
    metric = METRICS.build(dict(type='VOSTMetric'))
    metric.output_dir = out
    for name, (gt, pred, frames) in (('a', video_a()), ('b', video_b())):
        metric.process(None, [make_sample(name, gt, pred, frames)])
    metrics = metric.evaluate(2)

    # Objects a_1: J 1, 1/2 -> J_last frame floor(1.5) = 1 on: 1/2.
    # b_1: one scored frame J 1/2; b_2 never predicted: J 0.
    # Decay of two frames is first minus last; of one frame 0.
    expected = {
        'J-Mean': (0.75 + 0.5 + 0.) / 3,
        'J-Recall': (0.5 + 0. + 0.) / 3,
        'J-Decay': (0.5 + 0. + 0.) / 3,
        'J_last-Mean': (0.5 + 0.5 + 0.) / 3,
        'J_last-Recall': 0.,
        'J_last-Decay': 0.,
    }
    assert metrics == pytest.approx(
        {f'vost/{k}': v for k, v in expected.items()})

    rows = read_csv(osp.join(out, 'global_results-val.csv'))
    assert rows[0] == list(expected)
    assert rows[1] == [f'{v:.3f}' for v in expected.values()]
    assert read_csv(osp.join(out, 'per-sequence_results-val.csv')) == [
        ['Sequence', 'J-Mean', 'J_last-Mean'],
        ['a_1', '0.750', '0.500'],
        ['b_1', '0.500', '0.500'],
        ['b_2', '0.000', '0.000'],
    ]
    # Only the annotated frames are written, named like the annotations.
    assert sorted(os.listdir(osp.join(out, 'a'))) == [
        '00000.png', '00004.png', '00008.png', '00012.png'
    ]
    written = np.array(Image.open(osp.join(out, 'a', '00008.png')))
    np.testing.assert_array_equal(written, video_a()[1][4])

    # The folder, read back, scores as the run that wrote it.
    os.remove(osp.join(out, 'global_results-val.csv'))
    assert VOSTMetric().score_folder(out, GroundTruth()) == metrics
    assert read_csv(osp.join(out, 'global_results-val.csv'))[1] == rows[1]


def test_default_prefix_and_no_files_without_output_dir():
    metric = VOSTMetric()
    assert metric.default_prefix == 'vost'
    gt, pred, frames = video_a()
    metric.process(None, [make_sample('a', gt, pred, frames)])
    assert metric.evaluate(1)['vost/J-Mean'] == pytest.approx(0.75)


def test_bad_samples():
    metric = VOSTMetric()
    gt, pred, frames = video_a()
    with pytest.raises(KeyError, match='LoadSparseAnnotations'):
        metric.process(None,
                       [make_sample('a', gt, pred, frames, with_gt=False)])
    with pytest.raises(ValueError, match="sequence 'a'.*at least 3"):
        metric.process(None, [make_sample('a', gt, pred, [0, 6])])
    with pytest.raises(FileNotFoundError, match='00008.png'):
        VOSTMetric().read_sequence('missing', make_sample(
            'a', gt, pred, frames).to_dict())
