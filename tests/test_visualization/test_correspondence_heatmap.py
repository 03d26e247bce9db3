import numpy as np
import pytest
import torch
from torch import nn

from mmhvc.visualization import (correspondence_heatmap,
                                 draw_affinity_heatmaps, query_heatmaps)

STRIDE = 4


class PoolingModel(nn.Module):
    """Features: the frame's channels averaged over 4x4 cells, kept as
    given (so the test sees the channel order the model received)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.inputs = []

    def extract_feat(self, frame):
        self.inputs.append(frame.clone())
        return nn.functional.avg_pool2d(frame.float()[None], STRIDE)[0]


def frames(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    return a, b


def expected_maps(frame_a, frame_b, points, temperature):
    """Softmax over B's cells of the dot products with the query cell,
    features the 4x4 means of the BGR channels."""
    def cells(frame):
        bgr = frame[..., ::-1].astype(np.float64)
        h, w = frame.shape[0] // STRIDE, frame.shape[1] // STRIDE
        return bgr.reshape(h, STRIDE, w, STRIDE, 3).mean(axis=(1, 3))

    feat_a, feat_b = cells(frame_a), cells(frame_b)
    maps = []
    for x, y in points:
        query = feat_a[int(y) // STRIDE, int(x) // STRIDE]
        logits = feat_b @ query / temperature
        weights = np.exp(logits - logits.max())
        maps.append(weights / weights.sum())
    return np.stack(maps)


def test_query_heatmaps_feed_bgr_and_follow_the_softmax():
    model = PoolingModel()
    frame_a, frame_b = frames()
    points = torch.tensor([[1., 2.], [22., 13.]], dtype=torch.float64)
    maps = query_heatmaps(model, frame_a, frame_b, points, 5000.)
    assert tuple(maps.shape) == (2, 4, 6)
    np.testing.assert_allclose(
        maps.numpy(),
        expected_maps(frame_a, frame_b, points.tolist(), 5000.),
        rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(model.inputs[0].numpy(),
                                  frame_a[..., ::-1].transpose(2, 0, 1))
    np.testing.assert_array_equal(model.inputs[1].numpy(),
                                  frame_b[..., ::-1].transpose(2, 0, 1))


def test_correspondence_heatmap_draws_one_query():
    model = PoolingModel()
    frame_a, frame_b = frames(1)
    image = correspondence_heatmap(model, frame_a, frame_b, (7., 9.), 3000.)
    # the frames are left as they were
    np.testing.assert_array_equal(frame_a, frames(1)[0])
    np.testing.assert_array_equal(frame_b, frames(1)[1])
    maps = torch.from_numpy(
        expected_maps(frame_a, frame_b, [(7., 9.)], 3000.)).float()
    drawn = draw_affinity_heatmaps(frame_a, frame_b,
                                   torch.tensor([[7., 9.]]), maps)
    assert image.shape == drawn.shape and image.dtype == np.uint8
    assert np.abs(image.astype(int) - drawn.astype(int)).max() <= 1


def test_point_outside_frame_a_is_refused():
    frame_a, frame_b = frames()
    with pytest.raises(ValueError, match='outside the 24x16 image'):
        correspondence_heatmap(PoolingModel(), frame_a, frame_b, (24., 3.),
                               1.)
