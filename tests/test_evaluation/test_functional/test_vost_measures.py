"""J and J_last of VOST, against values worked out by hand."""
import numpy as np
import pytest

from mmhvc.evaluation.functional import (last_quarter_start,
                                         vost_frame_jaccard,
                                         vost_num_objects,
                                         vost_object_statistics,
                                         vost_summary, vost_tables)


def five_frames():
    """Five annotated 2 x 4 frames: objects 1 and 2 given, object 3 only
    later, a void pixel (255) in every frame."""
    gt = np.array([
        [[1, 1, 0, 2], [0, 0, 0, 255]],   # given
        [[1, 1, 0, 2], [0, 0, 0, 255]],
        [[1, 1, 1, 0], [0, 3, 0, 255]],   # object 2 gone, 3 appears
        [[0, 1, 1, 2], [0, 3, 3, 255]],
        [[1, 1, 1, 1], [2, 2, 2, 255]],   # last: not scored
    ], dtype=np.uint8)
    pred = np.array([
        [[0, 0, 0, 0], [0, 0, 0, 0]],     # first: not scored
        [[1, 1, 0, 0], [0, 0, 0, 1]],     # 1 on the void pixel
        [[1, 1, 5, 0], [0, 3, 0, 0]],     # id 5 is ignored
        [[0, 1, 1, 0], [0, 0, 0, 0]],
        [[0, 0, 0, 0], [0, 0, 0, 0]],
    ], dtype=np.uint8)
    return gt, pred


def test_frame_jaccard_scores_given_objects_between_first_and_last():
    gt, pred = five_frames()
    jaccard = vost_frame_jaccard(gt, pred, num_objects=2)
    # Object 1, frame 1: gt {(0,0),(0,1)}, pred adds the void pixel
    # (1,3), which counts as background: 2 / 3. Frame 2: gt has three
    # pixels, pred two of them (5 is not object 1): 2 / 3. Frame 3: equal.
    # Object 2 is never predicted: frame 1 gt one pixel -> 0, frame 2 both
    # empty -> 1, frame 3 gt one pixel -> 0.
    np.testing.assert_allclose(
        jaccard, [[2 / 3, 2 / 3, 1.], [0., 1., 0.]])


def test_num_objects_from_the_first_annotation_without_void():
    gt, _ = five_frames()
    assert vost_num_objects(gt[0]) == 2
    assert vost_num_objects(np.array([[0, 255], [4, 0]])) == 4
    assert vost_num_objects(np.array([[0, 255]])) == 0


@pytest.mark.parametrize('num_scored,start', [(1, 0), (2, 1), (4, 3),
                                              (7, 5), (8, 6), (9, 6)])
def test_last_quarter_starts_at_floor_of_three_quarters(num_scored, start):
    assert last_quarter_start(num_scored) == start


def test_object_statistics_of_five_frames():
    gt, pred = five_frames()
    first, second = vost_object_statistics('cut', gt, pred)
    assert first['name'] == 'cut_1' and second['name'] == 'cut_2'
    # Three scored frames; J_last from floor(2.25) = 2: the last one.
    # Decay over three frames: edges round(linspace(1, 3, 5)) - 1 =
    # 0 1 1 2 2, first bin frames 0-1, last bin frame 2.
    j_mean, j_recall, j_decay = first['J']
    assert j_mean == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert j_recall == pytest.approx(1.)
    assert j_decay == pytest.approx(2 / 3 - 1.)
    assert first['J_last'] == pytest.approx((1., 1., 0.))
    assert second['J'] == pytest.approx((1 / 3, 1 / 3, 0.5 - 0.))
    assert second['J_last'] == pytest.approx((0., 0., 0.))


def ramp_sequence():
    """Ten annotated 1 x 4 frames of one object; the prediction covers 4
    of its 4 pixels on scored frames 0-5, then 2, then 0."""
    covered = [4, 4, 4, 4, 4, 4, 4, 2, 0, 4]   # per annotated frame
    gt = np.ones((10, 1, 4), dtype=np.uint8)
    pred = np.zeros_like(gt)
    for t, count in enumerate(covered):
        pred[t, 0, :count] = 1
    return gt, pred


def test_j_last_is_the_last_quarter_of_the_scored_frames():
    gt, pred = ramp_sequence()
    (obj, ) = vost_object_statistics('peel', gt, pred)
    # Scored J: 1 1 1 1 1 1 0.5 0 (8 frames). Decay bins of 8 frames:
    # edges round(linspace(1, 8, 5)) - 1 = 0 2 4 5 7, first 0-2, last 5-7.
    assert obj['J'] == pytest.approx((6.5 / 8, 6 / 8, 1. - 1.5 / 3))
    # floor(0.75 * 8) = 6: frames 6 and 7, J 0.5 and 0; 0.5 is no recall;
    # two frames: bins 0-0 and 1-1.
    assert obj['J_last'] == pytest.approx((0.25, 0., 0.5))


def test_summary_and_tables_average_over_objects():
    objects = [
        dict(name='a_1', J=(0.5, 1., 0.25), J_last=(0.25, 0., 0.)),
        dict(name='b_1', J=(0.1236, 0., -0.25), J_last=(0.75, 1., 0.5)),
    ]
    summary = vost_summary(objects)
    assert list(summary) == ['J-Mean', 'J-Recall', 'J-Decay',
                             'J_last-Mean', 'J_last-Recall', 'J_last-Decay']
    assert list(summary.values()) == pytest.approx(
        [0.3118, 0.5, 0., 0.5, 0.5, 0.25])
    global_rows, sequence_rows = vost_tables(objects)
    assert global_rows == [
        list(summary), ['0.312', '0.500', '0.000', '0.500', '0.500', '0.250']
    ]
    assert sequence_rows == [['Sequence', 'J-Mean', 'J_last-Mean'],
                             ['a_1', '0.500', '0.250'],
                             ['b_1', '0.124', '0.750']]


def test_bad_input():
    gt, pred = five_frames()
    with pytest.raises(ValueError, match='at least 3 annotated frames'):
        vost_object_statistics('v', gt[:2], pred[:2])
    with pytest.raises(ValueError, match='holds no object'):
        vost_object_statistics('v', np.zeros_like(gt), pred)
    with pytest.raises(ValueError, match='one shape'):
        vost_frame_jaccard(gt, pred[:4], 2)
    with pytest.raises(ValueError, match='no object was scored'):
        vost_summary([])
