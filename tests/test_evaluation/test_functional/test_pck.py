import numpy as np
import pytest

from mmhvc.evaluation.functional.pck import (normalized_distances, pck_counts,
                                             pck_from_counts, reference_sizes)


def test_reference_size_is_scaled_box_diagonal():
    gt = np.array([[[0., 0.], [30., 40.], [10., 5.], [500., 500.]]])
    visible = np.array([[True, True, True, False]])
    # box 30 x 40 (the invisible joint is left out): diagonal 50
    np.testing.assert_allclose(reference_sizes(gt, visible), [30.])
    np.testing.assert_allclose(reference_sizes(gt, visible, 1.), [50.])
    single = np.array([[True, False, False, False]])
    np.testing.assert_allclose(reference_sizes(gt, single), [0.])


def test_strict_distances_lost_and_invisible_joints():
    gt = np.array([[[0., 0.], [30., 40.], [10., 10.], [7., 7.]]])
    visible = np.array([[True, True, True, False]])
    pred = gt + np.array([[[3., 0.], [0., 6.], [0., 0.], [1., 1.]]])
    found = np.array([[True, True, False, True]])
    dist = normalized_distances(pred, found, gt, visible, protocol='strict')
    # reference size 0.6 * 50 = 30
    np.testing.assert_allclose(dist[0, :2], [0.1, 0.2])
    assert np.isinf(dist[0, 2])  # annotated but lost: always wrong
    assert np.isnan(dist[0, 3])  # not annotated: not scored


def test_crw_distances_skip_lost_joints_and_box_the_found_ones():
    # The lost joint at (60, 80) neither counts nor widens the box.
    gt = np.array([[[0., 0.], [30., 40.], [60., 80.], [7., 7.]]])
    visible = np.array([[True, True, True, False]])
    pred = gt + np.array([[[3., 0.], [0., 6.], [0., 0.], [1., 1.]]])
    found = np.array([[True, True, False, True]])
    dist = normalized_distances(pred, found, gt, visible)
    np.testing.assert_allclose(dist[0, :2], [0.1, 0.2])  # size 0.6 * 50
    assert np.isnan(dist[0, 2:]).all()
    strict = normalized_distances(pred, found, gt, visible, protocol='strict')
    np.testing.assert_allclose(strict[0, :2], [0.05, 0.1])  # size 60


def test_frames_without_a_box():
    gt = np.array([[[5., 5.], [5., 5.]], [[0., 0.], [3., 4.]]])
    found = np.array([[True, True], [True, False]])
    visible = np.ones((2, 2), bool)
    # strict: a frame whose joints span no box is not scored
    strict = normalized_distances(gt, found, gt, visible, protocol='strict')
    assert np.isnan(strict[0]).all()
    np.testing.assert_array_equal(strict[1], [0., np.inf])
    # crw: its scored joints are wrong (the reference divides by 0)
    crw = normalized_distances(gt, found, gt, visible)
    assert np.isinf(crw[0]).all()
    assert np.isinf(crw[1, 0]) and np.isnan(crw[1, 1])
    with pytest.raises(ValueError, match="protocol.*'other'"):
        normalized_distances(gt, found, gt, visible, protocol='other')


def test_pck_is_mean_over_joints_of_pooled_instances():
    # joint 0 scored 4 times (distances 0.05, 0.1, 0.15, 0.3),
    # joint 1 scored once (0.2), joint 2 never
    dist = np.array([[0.05, 0.2, np.nan], [0.1, np.nan, np.nan],
                     [0.15, np.nan, np.nan], [0.3, np.nan, np.nan]])
    correct, total = pck_counts(dist, (0.1, 0.2))
    np.testing.assert_array_equal(correct, [[2, 0, 0], [3, 1, 0]])
    np.testing.assert_array_equal(total, [4, 1, 0])
    per_joint, mean = pck_from_counts(correct, total)
    np.testing.assert_allclose(per_joint[:, :2], [[0.5, 0.], [0.75, 1.]])
    assert np.isnan(per_joint[:, 2]).all()
    # the mean over joints (0.25, 0.875), not the pooled ratio (2/5, 4/5)
    np.testing.assert_allclose(mean, [0.25, 0.875])


def test_counts_of_videos_add_up():
    first = pck_counts(np.array([[0.05, 0.5]]), (0.1, ))
    second = pck_counts(np.array([[0.5, 0.05]]), (0.1, ))
    both = pck_counts(np.array([[0.05, 0.5], [0.5, 0.05]]), (0.1, ))
    np.testing.assert_array_equal(first[0] + second[0], both[0])
    np.testing.assert_array_equal(first[1] + second[1], both[1])


def test_shape_errors():
    with pytest.raises(ValueError, match='do not match'):
        normalized_distances(
            np.zeros((1, 3, 2)), np.ones((1, 3), bool), np.zeros((1, 2, 2)),
            np.ones((1, 2), bool))
