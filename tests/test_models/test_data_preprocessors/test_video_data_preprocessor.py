import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.models.data_preprocessors import VideoDataPreprocessor
from mmhvc.registry import MODELS


def test_registered_with_imagenet_defaults():
    preprocessor = MODELS.build(dict(type='VideoDataPreprocessor'))
    assert isinstance(preprocessor, VideoDataPreprocessor)
    assert preprocessor.mean.flatten().tolist() == pytest.approx(
        [123.675, 116.28, 103.53])
    assert preprocessor.std.flatten().tolist() == pytest.approx(
        [58.395, 57.12, 57.375])
    assert preprocessor.bgr_to_rgb
    # the statistics are configuration, not weights
    assert preprocessor.state_dict() == {}


def test_forward_keeps_the_frames_uint8():
    generator = torch.Generator().manual_seed(0)
    videos = [
        torch.randint(0, 256, (4, 3, 6, 7), dtype=torch.uint8,
                      generator=generator) for _ in range(2)
    ]
    samples = [BaseDataElement(metainfo=dict(seq_name=str(i)))
               for i in range(2)]
    out = VideoDataPreprocessor()(dict(inputs=videos, data_samples=samples))
    assert len(out['inputs']) == 2
    for video, result in zip(videos, out['inputs']):
        assert result.dtype == torch.uint8 and torch.equal(result, video)
    assert [s.seq_name for s in out['data_samples']] == ['0', '1']


def test_normalize_frame_by_hand():
    frame = torch.tensor([10, 20, 30], dtype=torch.uint8).view(3, 1, 1)
    frame = frame.expand(3, 2, 2)
    preprocessor = VideoDataPreprocessor(
        mean=[1., 2., 3.], std=[2., 4., 8.], bgr_to_rgb=True)
    out = preprocessor.normalize_frame(frame)
    assert out.shape == (1, 3, 2, 2) and out.dtype == torch.float32
    # BGR (10, 20, 30) -> RGB (30, 20, 10), then (x - mean) / std
    expected = torch.tensor([(30 - 1) / 2, (20 - 2) / 4, (10 - 3) / 8])
    torch.testing.assert_close(out[0, :, 1, 0], expected)
    same_order = VideoDataPreprocessor(
        mean=[1., 2., 3.], std=[2., 4., 8.], bgr_to_rgb=False)
    torch.testing.assert_close(
        same_order.normalize_frame(frame)[0, :, 0, 1],
        torch.tensor([(10 - 1) / 2, (20 - 2) / 4, (30 - 3) / 8]))


def test_bad_statistics():
    with pytest.raises(ValueError, match='3 values'):
        VideoDataPreprocessor(mean=[0., 0.])
    with pytest.raises(ValueError, match='positive'):
        VideoDataPreprocessor(std=[1., 0., 1.])
