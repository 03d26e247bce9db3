import numpy as np
import pytest

from mmhvc.evaluation.functional.part_miou import (intersect_and_union,
                                                   iou_from_counts)

GT = np.array([[0, 0, 1, 1], [2, 2, 255, 1]], dtype=np.uint8)
PRED = np.array([[0, 1, 1, 1], [2, 0, 0, 1]], dtype=np.uint8)


def test_counts_by_hand():
    intersection, union = intersect_and_union(PRED, GT, num_classes=4)
    # class 0: pred {(0,0), (1,1)}, gt {(0,0), (0,1)}
    # class 1: pred {(0,1), (0,2), (0,3), (1,3)}, gt {(0,2), (0,3), (1,3)}
    # class 2: pred {(1,0)}, gt {(1,0), (1,1)}; (1,2) is ignored
    np.testing.assert_array_equal(intersection, [1, 3, 1, 0])
    np.testing.assert_array_equal(union, [3, 4, 2, 0])
    iou, miou = iou_from_counts(intersection, union)
    np.testing.assert_allclose(iou[:3], [1 / 3, 3 / 4, 1 / 2])
    assert np.isnan(iou[3])
    assert miou == pytest.approx((1 / 3 + 3 / 4 + 1 / 2) / 3)


def test_ignored_pixels_never_count():
    pred = PRED.copy()
    pred[1, 2] = 3
    np.testing.assert_array_equal(
        intersect_and_union(pred, GT, 4)[1],
        intersect_and_union(PRED, GT, 4)[1])
    everything_ignored = np.full_like(GT, 255)
    intersection, union = intersect_and_union(PRED, everything_ignored, 4)
    assert intersection.sum() == union.sum() == 0
    assert np.isnan(iou_from_counts(intersection, union)[1])


def test_counts_accumulate_over_frames():
    """Summed counts, not the mean of per-frame IoUs."""
    gt = np.array([[[1, 0, 0, 0]], [[1, 0, 0, 0]]])
    pred = np.array([[[1, 0, 0, 0]], [[1, 1, 1, 0]]])
    first = intersect_and_union(pred[0], gt[0], 2)
    second = intersect_and_union(pred[1], gt[1], 2)
    iou, _ = iou_from_counts(first[0] + second[0], first[1] + second[1])
    assert iou[1] == pytest.approx(2 / 4)  # per frame: 1 and 1/3
    whole = intersect_and_union(pred, gt, 2)
    np.testing.assert_array_equal(whole[0], first[0] + second[0])
    np.testing.assert_array_equal(whole[1], first[1] + second[1])


def test_bad_labels_are_errors():
    with pytest.raises(ValueError, match=r'prediction holds class ids \[4\]'):
        intersect_and_union(np.full_like(PRED, 4), GT, num_classes=4)
    with pytest.raises(ValueError, match=r'annotation holds class ids \[2\]'):
        intersect_and_union(np.zeros_like(PRED), GT, num_classes=2)
    with pytest.raises(ValueError, match='same shape'):
        intersect_and_union(PRED[:1], GT, num_classes=4)
