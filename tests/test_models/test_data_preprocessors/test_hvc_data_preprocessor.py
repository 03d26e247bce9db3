import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.models.data_preprocessors import HVCDataPreprocessor
from mmhvc.registry import MODELS

MEAN_RGB = [0.4914 * 255, 0.4822 * 255, 0.4465 * 255]
STD_RGB = [0.2023 * 255, 0.1994 * 255, 0.2010 * 255]


def make_batch(batch_size=3, height=4, width=5):
    generator = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(
            0,
            256, (2, 3, height, width),
            dtype=torch.uint8,
            generator=generator) for _ in range(batch_size)
    ]
    samples = [
        BaseDataElement(
            metainfo=dict(img_path=f'{i}.jpg'),
            crop_boxes=torch.rand(2, 4, generator=generator))
        for i in range(batch_size)
    ]
    return inputs, samples


def test_registered():
    assert MODELS.module_dict['HVCDataPreprocessor'] is HVCDataPreprocessor


def test_default_normalisation_by_hand():
    inputs, samples = make_batch()
    out = HVCDataPreprocessor()(dict(inputs=inputs, data_samples=samples))
    result = out['inputs']
    assert result.dtype == torch.float32
    assert result.shape == (3, 2, 3, 4, 5)
    for b in range(3):
        for v in range(2):
            for c_out in range(3):
                c_in = 2 - c_out  # BGR input, RGB output
                raw = inputs[b][v, c_in].double()
                expected = (raw - MEAN_RGB[c_out]) / STD_RGB[c_out]
                assert torch.allclose(
                    result[b, v, c_out].double(), expected, atol=1e-5)
    # a single pixel, written out
    pixel = inputs[1][0, :, 2, 3].tolist()  # (B, G, R)
    assert result[1, 0, 0, 2, 3].item() == pytest.approx(
        (pixel[2] / 255 - 0.4914) / 0.2023, abs=1e-5)


def test_samples_moved_and_kept():
    inputs, samples = make_batch()
    boxes = [s.crop_boxes.clone() for s in samples]
    preprocessor = HVCDataPreprocessor()
    out = preprocessor(dict(inputs=inputs, data_samples=samples))
    assert len(out['data_samples']) == 3
    for sample, box in zip(out['data_samples'], boxes):
        assert sample.crop_boxes.device == preprocessor.device
        assert torch.equal(sample.crop_boxes, box)
        assert sample.img_path.endswith('.jpg')


def test_without_channel_swap_and_custom_stats():
    inputs, _ = make_batch(batch_size=2)
    preprocessor = HVCDataPreprocessor(
        mean=[10, 20, 30], std=[2, 4, 8], bgr_to_rgb=False)
    out = preprocessor(dict(inputs=inputs))
    assert out['data_samples'] is None
    for c in range(3):
        expected = (torch.stack(inputs)[:, :, c].float() -
                    [10, 20, 30][c]) / [2, 4, 8][c]
        assert torch.allclose(out['inputs'][:, :, c], expected)


def test_stacked_tensor_input():
    inputs, _ = make_batch(batch_size=2)
    preprocessor = HVCDataPreprocessor()
    from_list = preprocessor(dict(inputs=inputs))['inputs']
    from_tensor = preprocessor(dict(inputs=torch.stack(inputs)))['inputs']
    assert torch.equal(from_list, from_tensor)


def test_bad_inputs():
    inputs, _ = make_batch(batch_size=2)
    preprocessor = HVCDataPreprocessor()
    with pytest.raises(ValueError, match='shape'):
        preprocessor(dict(inputs=[inputs[0], inputs[1][..., :4]]))
    with pytest.raises(ValueError, match='shape'):
        preprocessor(dict(inputs=[view_pair[:, :1] for view_pair in inputs]))
    with pytest.raises(KeyError, match='inputs'):
        preprocessor(dict(data_samples=[]))
    with pytest.raises(
            ValueError, match=r'3 values, got \[0, 0\] and \[1, 1\]'):
        HVCDataPreprocessor(mean=[0, 0], std=[1, 1])
    with pytest.raises(ValueError, match='positive'):
        HVCDataPreprocessor(std=[1, 0, 1])
