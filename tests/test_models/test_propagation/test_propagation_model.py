import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement

from mmhvc.models.propagation import LabelPropagationSegmentor
from mmhvc.registry import MODELS

torch.set_num_threads(1)

HEIGHT, WIDTH = 32, 48
BACKBONE = dict(
    type='HVCResNet', depth=18, num_stages=3, strides=(1, 2, 1),
    out_indices=(2, ))


def build_model(**kwargs):
    cfg = dict(
        type='LabelPropagationSegmentor',
        backbone=BACKBONE,
        propagator=dict(type='LabelPropagator', context_size=3))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def noise_frames(num, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(
        0, 256, (num, 3, HEIGHT, WIDTH), generator=generator,
        dtype=torch.uint8)


def sample(given_frames, masks, **metainfo):
    data_sample = BaseDataElement(
        metainfo=dict(seq_name='seq', given_frames=given_frames, **metainfo))
    data_sample.given_masks = torch.stack(masks)
    return data_sample


def mask_with(*boxes):
    mask = torch.zeros(HEIGHT, WIDTH, dtype=torch.uint8)
    for obj, (y0, y1, x0, x1) in boxes:
        mask[y0:y1, x0:x1] = obj
    return mask


def resize_align_corners(image, height, width):
    """Bilinear resize of a (C, H, W) array where the corner pixels of input
    and output coincide (sample point i * (H - 1) / (height - 1))."""
    in_h, in_w = image.shape[1:]
    ys = np.arange(height) * (in_h - 1) / (height - 1)
    xs = np.arange(width) * (in_w - 1) / (width - 1)
    y0 = np.minimum(np.floor(ys).astype(int), in_h - 2)
    x0 = np.minimum(np.floor(xs).astype(int), in_w - 2)
    wy = (ys - y0)[:, None]
    wx = (xs - x0)[None, :]
    top = image[:, y0][:, :, x0] * (1 - wx) + image[:, y0][:, :, x0 + 1] * wx
    bottom = image[:, y0 + 1][:, :, x0] * (1 - wx) + \
        image[:, y0 + 1][:, :, x0 + 1] * wx
    return top * (1 - wy) + bottom * wy


def test_predicts_every_frame_and_keeps_the_given_one():
    model = build_model()
    given = mask_with((1, (3, 20, 4, 22)), (3, (18, 30, 26, 45)))
    data_sample = sample([0], [given], object_ids=[1, 3])
    out = model.test_step(
        dict(inputs=[noise_frames(4, 0)], data_samples=[data_sample]))[0]
    pred = out.pred_masks
    assert pred.shape == (4, HEIGHT, WIDTH) and pred.dtype == torch.uint8
    assert torch.equal(pred[0], given)
    assert set(pred.unique().tolist()) <= {0, 1, 3}


def test_soft_labels_are_resized_with_aligned_corners():
    # Frame 1 repeats frame 0. Its padded context is 4 copies of frame 0,
    # so with top-4 each position's own copy fills the top-k and frame 1
    # receives frame 0's soft labels unchanged: the output is the argmax of
    # the given mask resized to the 4 x 6 feature grid and back, both with
    # align_corners=True.
    model = build_model(
        propagator=dict(type='LabelPropagator', context_size=3, topk=4))
    frames = noise_frames(3, 1)
    frames[1] = frames[0]
    given = mask_with((1, (0, 14, 0, 19)), (3, (13, 32, 30, 48)))
    data_sample = sample([0], [given], object_ids=[1, 3])
    pred = model.predict([frames], [data_sample])[0].pred_masks

    one_hot = np.stack([given.numpy() == i for i in (0, 1, 3)]).astype(float)
    soft = resize_align_corners(one_hot, 4, 6)
    up = resize_align_corners(soft, HEIGHT, WIDTH)
    expected = np.array([0, 1, 3])[up.argmax(0)]
    np.testing.assert_array_equal(pred[1].numpy(), expected)

    misaligned = F.interpolate(
        F.interpolate(
            torch.from_numpy(one_hot)[None], (4, 6), mode='bilinear'),
        (HEIGHT, WIDTH),
        mode='bilinear')[0].argmax(0)
    assert (torch.tensor([0, 1, 3])[misaligned] != pred[1]).any()


def test_object_given_later_starts_its_own_context(monkeypatch):
    model = build_model()
    calls = []

    def fake_propagate(query, memory, contexts):
        # group g predicts g + 1 in every channel, so the merge shows which
        # channels each group contributes
        calls.append(contexts)
        return [
            torch.full((3, *query.shape[1:]), float(g + 1))
            for g in range(len(contexts))
        ]

    monkeypatch.setattr(model.propagator, 'propagate', fake_propagate)
    g0 = mask_with((1, (2, 16, 2, 20)))
    g2 = mask_with((2, (20, 30, 30, 44)))
    data_sample = sample([0, 2], [g0, g2],
                         object_ids=[1, 2],
                         given_object_ids=[[1], [2]])
    pred = model.predict([noise_frames(4, 2)], [data_sample])[0].pred_masks

    assert calls == [[[0, 0, 0, 0]], [[0, 0, 0, 1]], [[0, 0, 1, 2],
                                                      [2, 2, 2, 2]]]
    assert not (pred[:2] == 2).any()
    assert torch.equal(pred[2][g2 == 2], torch.full_like(pred[2][g2 == 2], 2))
    # frame 3: background and object 1 get 1 (first group), object 2 gets 2
    assert (pred[3] == 2).all()


def test_given_mask_blends_by_its_foreground_share():
    soft = torch.tensor([0.6, 0.4, 0.0]).view(3, 1, 1)
    given = torch.tensor([0.0, 0.0, 0.5]).view(3, 1, 1)
    blended = LabelPropagationSegmentor._overwrite(soft, given)
    torch.testing.assert_close(blended.flatten(),
                               torch.tensor([0.3, 0.2, 0.25]))


def test_frames_before_the_first_given_frame_are_background():
    model = build_model()
    given = mask_with((4, (5, 25, 5, 40)))
    data_sample = sample([1], [given], object_ids=[4])
    pred = model.predict([noise_frames(3, 3)], [data_sample])[0].pred_masks
    assert not pred[0].any()
    assert torch.equal(pred[1], given)


def test_merged_features():
    model = build_model(extra_backbone=BACKBONE, merge_weight=2.0)
    frame = noise_frames(1, 4)[0]
    x = (frame.float().flip(0) - model.mean) / model.std
    f1 = F.normalize(model.backbone(x[None])[-1][0], dim=0)
    f2 = F.normalize(model.extra_backbone(x[None])[-1][0], dim=0)
    expected = F.normalize(torch.cat([2.0 * f1, f2]), dim=0)
    feat = model.extract_feat(frame)
    assert feat.shape == (512, 4, 6)
    torch.testing.assert_close(feat, expected)


def test_loads_training_checkpoint_and_backbone_file(tmp_path):
    source = build_model()
    for param in source.backbone.parameters():
        param.data.normal_()
    weights = source.backbone.state_dict()
    training = {f'backbone.{k}': v for k, v in weights.items()}
    training['neck.conv.weight'] = torch.zeros(1)
    training['backbone.layer4.0.conv1.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=training), tmp_path / 'epoch_1.pth')
    torch.save(weights, tmp_path / 'backbone.pth')
    torch.save({'neck.conv.weight': torch.zeros(1)}, tmp_path / 'bad.pth')

    for name in ('epoch_1.pth', 'backbone.pth'):
        model = build_model()
        load_checkpoint(model, str(tmp_path / name), strict=True)
        for key, value in model.backbone.state_dict().items():
            assert torch.equal(value, weights[key]), (name, key)
    with pytest.raises(KeyError, match='backbone parameters'):
        load_checkpoint(build_model(), str(tmp_path / 'bad.pth'))


def test_extra_backbone_checkpoint(tmp_path):
    source = build_model(extra_backbone=BACKBONE)
    for param in source.extra_backbone.parameters():
        param.data.normal_()
    weights = {
        f'module.encoder_q.{k}': v
        for k, v in source.extra_backbone.state_dict().items()
    }
    weights['module.encoder_q.fc.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=weights), tmp_path / 'moco.pth')
    model = build_model(
        extra_backbone=BACKBONE,
        extra_checkpoint=str(tmp_path / 'moco.pth'),
        extra_prefix='module.encoder_q.')
    for key, value in model.extra_backbone.state_dict().items():
        assert torch.equal(value, weights[f'module.encoder_q.{key}'])
    with pytest.raises(KeyError, match='encoder parameters'):
        build_model(
            extra_backbone=BACKBONE,
            extra_checkpoint=str(tmp_path / 'moco.pth'),
            extra_prefix='encoder.')


def test_bad_inputs():
    model = build_model()
    frames = noise_frames(2, 5)
    no_masks = BaseDataElement(metainfo=dict(seq_name='seq',
                                             given_frames=[0]))
    with pytest.raises(KeyError, match='seq.*given_masks'):
        model.predict([frames], [no_masks])
    g0 = mask_with((1, (2, 16, 2, 20)))
    repeated = sample([0, 1], [g0, g0])
    with pytest.raises(ValueError, match='frame 1 has no object'):
        model.predict([frames], [repeated])
    with pytest.raises(ValueError, match='must be sorted'):
        model.predict([frames], [sample([2], [g0])])
    with pytest.raises(ValueError, match='do not match'):
        model.predict([frames], [sample([0], [g0], object_ids=[1, 2])])
    with pytest.raises(ValueError, match='test-time model'):
        model(frames[None], [sample([0], [g0])], mode='loss')
