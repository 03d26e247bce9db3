import numpy as np
import pytest

from mmhvc.evaluation.functional import (boundary_map, boundary_measure,
                                         boundary_tolerance, db_statistics,
                                         disk_kernel, evaluate_semisupervised,
                                         frame_f_measure, merge_objects,
                                         region_similarity)


def box(shape, rows, cols, value=1):
    """A mask holding ``value`` at rows[0]..rows[1], cols[0]..cols[1]."""
    mask = np.zeros(shape, dtype=np.uint8)
    mask[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = value
    return mask


def test_region_similarity_values():
    gt = box((10, 10), (2, 5), (2, 5))
    assert region_similarity(gt, gt) == 1.0
    # Disjoint masks.
    assert region_similarity(gt, box((10, 10), (7, 8), (7, 8))) == 0.0
    # Shift by two columns: 8 common pixels, union 24.
    pred = box((10, 10), (2, 5), (4, 7))
    assert region_similarity(gt, pred) == pytest.approx(8 / 24)


def test_region_similarity_empty_conventions():
    empty = np.zeros((6, 6), dtype=np.uint8)
    full = box((6, 6), (1, 2), (1, 2))
    assert region_similarity(empty, empty) == 1.0
    assert region_similarity(full, empty) == 0.0
    assert region_similarity(empty, full) == 0.0
    # A sequence gives one value per frame.
    gt = np.stack([full, empty, empty])
    pred = np.stack([full, empty, full])
    np.testing.assert_allclose(region_similarity(gt, pred), [1, 1, 0])


def test_region_similarity_shape_mismatch():
    with pytest.raises(ValueError, match='do not match'):
        region_similarity(np.zeros((4, 4)), np.zeros((4, 5)))


def test_boundary_map_square():
    mask = box((6, 6), (1, 3), (1, 3))
    expected = np.array([
        [1, 1, 1, 1, 0, 0],
        [1, 0, 0, 1, 0, 0],
        [1, 0, 0, 1, 0, 0],
        [1, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ],
                        dtype=bool)
    np.testing.assert_array_equal(boundary_map(mask), expected)


def test_boundary_map_last_row_and_column():
    # The last row compares with the east neighbour only, the last column
    # with the south neighbour only, and the corner is never a boundary.
    mask = box((4, 4), (2, 3), (2, 3))
    expected = np.array([
        [0, 0, 0, 0],
        [0, 1, 1, 1],
        [0, 1, 0, 0],
        [0, 1, 0, 0],
    ],
                        dtype=bool)
    np.testing.assert_array_equal(boundary_map(mask), expected)
    assert not boundary_map(np.ones((5, 7))).any()


def test_disk_kernel():
    np.testing.assert_array_equal(disk_kernel(0), [[1]])
    np.testing.assert_array_equal(
        disk_kernel(1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    np.testing.assert_array_equal(
        disk_kernel(2), [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1],
                         [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]])
    for radius in range(6):
        kernel = disk_kernel(radius)
        assert kernel.shape == (2 * radius + 1, 2 * radius + 1)
        assert kernel.dtype == np.uint8
        for row in range(2 * radius + 1):
            for col in range(2 * radius + 1):
                inside = (row - radius)**2 + (col - radius)**2 <= radius**2
                assert kernel[row, col] == inside
    with pytest.raises(ValueError):
        disk_kernel(-1)


def test_boundary_tolerance():
    # 480 x 854 frames: 0.008 * 979.65 = 7.84 -> 8 pixels.
    assert boundary_tolerance((480, 854)) == 8
    assert boundary_tolerance((64, 64)) == 1
    assert boundary_tolerance((480, 854), 0) == 0
    assert boundary_tolerance((480, 854), 3) == 3
    with pytest.raises(ValueError, match='whole pixels'):
        boundary_tolerance((10, 10), 1.5)


def test_f_measure_one_pixel_shift():
    gt = box((10, 10), (2, 5), (2, 5))
    pred = box((10, 10), (2, 5), (3, 6))
    # Both boundaries are 16-pixel rings (rows 1-5, cols 1-5 and cols 2-6);
    # they share their top and bottom rows inside cols 2-5: 8 pixels.
    assert frame_f_measure(gt, pred, bound_th=0) == pytest.approx(0.5)
    # Within one pixel every boundary pixel has a match.
    assert frame_f_measure(gt, pred, bound_th=1) == pytest.approx(1.0)
    # The default tolerance on a 10 x 10 image is ceil(0.113) = 1 pixel.
    assert frame_f_measure(gt, pred) == pytest.approx(1.0)
    assert region_similarity(gt, pred) == pytest.approx(12 / 20)


def test_f_measure_precision_differs_from_recall():
    gt = box((10, 10), (2, 5), (2, 5))
    pred = gt.copy()
    pred[8, 8] = 1  # adds 4 unmatched boundary pixels: (7..8, 7..8)
    precision, recall = 16 / 20, 1.0
    expected = 2 * precision * recall / (precision + recall)
    assert frame_f_measure(gt, pred, bound_th=0) == pytest.approx(expected)


def test_f_measure_empty_conventions():
    empty = np.zeros((8, 8), dtype=np.uint8)
    square = box((8, 8), (2, 4), (2, 4))
    assert frame_f_measure(empty, empty) == 1.0
    assert frame_f_measure(square, empty) == 0.0
    assert frame_f_measure(empty, square) == 0.0
    assert frame_f_measure(square, square) == 1.0
    # Far apart squares: no match at a 1 pixel tolerance.
    far = box((8, 8), (6, 7), (6, 7))
    assert frame_f_measure(box((8, 8), (0, 1), (0, 1)), far) == 0.0


def test_boundary_measure_sequence():
    square = box((8, 8), (2, 4), (2, 4))
    empty = np.zeros_like(square)
    gt = np.stack([square, square, empty])
    pred = np.stack([square, empty, empty])
    np.testing.assert_allclose(boundary_measure(gt, pred), [1, 0, 1])
    assert boundary_measure(square, square) == 1.0
    with pytest.raises(ValueError):
        boundary_measure(np.zeros((1, 2, 3, 4)), np.zeros((1, 2, 3, 4)))


def test_db_statistics_five_frames():
    mean, recall, decay = db_statistics(np.array([1.0, 0.8, 0.6, 0.4, 0.2]))
    assert mean == pytest.approx(0.6)
    assert recall == pytest.approx(3 / 5)
    # Bin edges 0, 1, 2, 3, 4: first bin frames 0-1, last bin frames 3-4.
    assert decay == pytest.approx(0.9 - 0.3)


def test_db_statistics_bins_round_halves_up():
    # linspace(1, 3, 5) = 1, 1.5, 2, 2.5, 3 -> edges 0, 1, 1, 2, 2:
    # first bin frames 0-1, last bin frame 2 only.
    mean, recall, decay = db_statistics(np.array([1.0, 0.5, 0.0]))
    assert mean == pytest.approx(0.5)
    assert recall == pytest.approx(1 / 3)
    assert decay == pytest.approx(0.75)


def test_db_statistics_eight_frames_and_nan():
    # linspace(1, 8, 5) = 1, 2.75, 4.5, 6.25, 8 -> edges 0, 2, 4, 5, 7.
    values = np.array([1, 1, 1, 0, 0, 0, 0, 0.5])
    _, _, decay = db_statistics(values)
    assert decay == pytest.approx(1 - 0.5 / 3)
    mean, recall, _ = db_statistics(np.array([1.0, np.nan, 0.0, 0.0]))
    assert mean == pytest.approx(1 / 3)
    assert recall == pytest.approx(1 / 4)
    assert db_statistics(np.array([0.7])) == pytest.approx((0.7, 1.0, 0.0))
    with pytest.raises(ValueError):
        db_statistics(np.array([]))


def test_evaluate_semisupervised_objects_and_frames():
    square = box((12, 12), (1, 4), (1, 4), 1)
    other = box((12, 12), (7, 10), (7, 10), 2)
    gt = np.stack([square + other] * 4)
    pred = gt.copy()
    pred[0] = 0  # first frame: not evaluated
    pred[3] = 0  # last frame: not evaluated
    pred[2][pred[2] == 2] = 0  # object 2 lost in frame 2
    jaccard, f_score = evaluate_semisupervised(gt, pred, 2)
    np.testing.assert_allclose(jaccard, [[1, 1], [1, 0]])
    np.testing.assert_allclose(f_score, [[1, 1], [1, 0]])


def test_evaluate_semisupervised_padding_and_errors():
    square = box((8, 8), (1, 3), (1, 3), 1)
    gt = np.stack([square + box((8, 8), (5, 6), (5, 6), 2)] * 3)
    # Object 2 never predicted: scored against an empty mask.
    pred = np.stack([square] * 3)
    jaccard, f_score = evaluate_semisupervised(gt, pred, 2)
    np.testing.assert_allclose(jaccard, [[1], [0]])
    np.testing.assert_allclose(f_score, [[1], [0]])
    # An id above the annotated objects in an evaluated frame is an error ...
    pred[1, 7, 7] = 3
    with pytest.raises(ValueError, match='object id 3'):
        evaluate_semisupervised(gt, pred, 2)
    # ... but not in the excluded first and last frames.
    pred[1, 7, 7] = 0
    pred[0, 7, 7] = 3
    pred[2, 7, 7] = 3
    evaluate_semisupervised(gt, pred, 2)
    with pytest.raises(ValueError, match='at least 3 frames'):
        evaluate_semisupervised(gt[:2], pred[:2], 2)


def test_evaluate_semisupervised_void_is_background():
    gt = np.zeros((3, 8, 8), dtype=np.uint8)
    gt[:, 1:3, 1:3] = 1
    gt[:, 5:7, 1:7] = 255
    pred = np.where(gt > 0, 1, 0).astype(np.uint8)
    jaccard, _ = evaluate_semisupervised(gt, pred, 1)
    # The 12 void pixels predicted as the object are false positives.
    np.testing.assert_allclose(jaccard, [[4 / 16]])


def test_merge_objects_keeps_background_and_void():
    labels = np.array([[[0, 1, 2], [3, 254, 255]]], dtype=np.int64)
    merged = merge_objects(labels)
    assert merged.dtype == np.uint8
    np.testing.assert_array_equal(merged, [[[0, 1, 1], [1, 1, 255]]])
