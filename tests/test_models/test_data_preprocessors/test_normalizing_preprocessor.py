import torch

from mmhvc.models.data_preprocessors import (HVCDataPreprocessor,
                                             VideoDataPreprocessor)


def test_statistics_default_per_subclass_and_stay_out_of_checkpoints():
    hvc = HVCDataPreprocessor(std=[2., 4., 8.])
    assert hvc.mean.shape == (1, 1, 3, 1, 1)
    torch.testing.assert_close(
        hvc.mean.flatten(),
        torch.tensor([0.4914 * 255, 0.4822 * 255, 0.4465 * 255]))
    torch.testing.assert_close(hvc.std.flatten(), torch.tensor([2., 4., 8.]))
    video = VideoDataPreprocessor(mean=[1., 2., 3.])
    assert video.std.shape == (3, 1, 1)
    torch.testing.assert_close(video.mean.flatten(),
                               torch.tensor([1., 2., 3.]))
    torch.testing.assert_close(video.std.flatten(),
                               torch.tensor([58.395, 57.12, 57.375]))
    assert not hvc.state_dict() and not video.state_dict()


def test_normalize_flips_the_channel_axis_only():
    pixels = torch.tensor([10, 20, 30], dtype=torch.uint8).view(1, 1, 3, 1, 1)
    pixels = pixels.expand(1, 2, 3, 2, 2)
    out = HVCDataPreprocessor(
        mean=[10., 10., 10.], std=[1., 2., 5.]).normalize(pixels)
    assert out.dtype == torch.float32 and out.shape == (1, 2, 3, 2, 2)
    torch.testing.assert_close(out[0, 1, :, 1, 0], torch.tensor([20., 5., 0.]))
