import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement
from torch import nn

from mmhvc.models.data_preprocessors import VideoDataPreprocessor
from mmhvc.models.propagation import (KeypointCodec, LabelPropagationSegmentor,
                                      MaskCodec, heatmaps_to_keypoints,
                                      keypoints_to_heatmaps)
from mmhvc.registry import MODELS

torch.set_num_threads(1)
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

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
    ids = torch.stack(masks).unique().tolist()
    metainfo.setdefault('object_ids', [i for i in ids if 0 < i < 255])
    data_sample = BaseDataElement(
        metainfo=dict(seq_name='seq', given_frames=given_frames, **metainfo))
    data_sample.given_masks = torch.stack(masks)
    return data_sample


def mask_with(*boxes, fill=0):
    mask = torch.full((HEIGHT, WIDTH), fill, dtype=torch.uint8)
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

    def fake_propagate(query, memory, contexts, num_long_term):
        # group g predicts g + 1 in every channel, so the merge shows which
        # channels each group contributes
        assert num_long_term == [1] * len(contexts)
        calls.append(contexts)
        return [
            torch.full((3, *query.shape[1:]), float(g + 1))
            for g in range(len(contexts))
        ]

    monkeypatch.setattr(model.propagator, 'propagate', fake_propagate)
    g0 = mask_with((1, (2, 16, 2, 20)))
    # a later given mask holds its new object only, void elsewhere
    g2 = mask_with((2, (20, 30, 30, 44)), fill=255)
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


def test_defaults_mask_codec_and_imagenet_preprocessor():
    model = build_model()
    assert isinstance(model.codec, MaskCodec)
    assert isinstance(model.data_preprocessor, VideoDataPreprocessor)
    torch.testing.assert_close(model.data_preprocessor.mean.flatten(),
                               torch.tensor([123.675, 116.28, 103.53]))
    assert model.data_preprocessor.bgr_to_rgb


def test_features_use_the_preprocessor_normalisation():
    # mean 0 / std 1 without the channel flip: the encoder sees raw pixels
    model = build_model(
        data_preprocessor=dict(
            type='VideoDataPreprocessor',
            mean=[0, 0, 0],
            std=[1, 1, 1],
            bgr_to_rgb=False))
    frame = noise_frames(1, 7)[0]
    expected = F.normalize(model.backbone(frame.float()[None])[-1][0], dim=0)
    torch.testing.assert_close(model.extract_feat(frame), expected)


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
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    x = (frame.float().flip(0) - mean) / std
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
    with pytest.raises(ValueError, match='2 entries for 1 given frames'):
        model.predict([frames], [sample([0], [g0, g0])])
    with pytest.raises(ValueError, match='must be sorted'):
        model.predict([frames], [sample([2], [g0])])
    with pytest.raises(ValueError, match='must be sorted'):
        model.predict([frames], [sample([1, 0], [g0, g0])])
    unlisted = BaseDataElement(
        metainfo=dict(seq_name='seq', given_frames=[0]),
        given_masks=g0[None])
    with pytest.raises(KeyError, match='seq: the metainfo has no'):
        model.predict([frames], [unlisted])
    with pytest.raises(ValueError, match=r'seq: expected \(T, 3, H, W\)'):
        model.predict([frames[:, :2]], [sample([0], [g0])])
    with pytest.raises(ValueError, match='2 data samples'):
        model.predict([frames], [sample([0], [g0])] * 2)
    with pytest.raises(ValueError, match='test-time model'):
        model(frames[None], [sample([0], [g0])], mode='loss')


def test_tensor_mode_encodes_every_frame():
    model = build_model()
    frames = noise_frames(2, 8)
    feats = model(frames[None], mode='tensor')[0]
    assert feats.shape == (2, 256, 4, 6)
    torch.testing.assert_close(feats[1], model.extract_feat(frames[1]))
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(2, 4, 6))


def test_batched_encoding_gives_the_same_features_and_masks():
    frames = noise_frames(5, 9)
    given = mask_with((1, (3, 20, 4, 22)), (2, (18, 30, 26, 45)))
    one = build_model()
    batched = build_model(encode_batch=3)
    feats = torch.cat(list(batched.iter_feats(frames)))
    assert [len(f) for f in batched.iter_feats(frames)] == [3, 2]
    torch.testing.assert_close(
        feats, torch.stack([one.extract_feat(f) for f in frames]))
    masks = [
        model.propagate_video(frames, sample([0], [given]))['pred_masks']
        for model in (one, batched)
    ]
    assert torch.equal(*masks)
    with pytest.raises(ValueError, match='encode_batch'):
        build_model(encode_batch=0)


def test_fp16_path_under_cpu_autocast_is_close_to_float32(monkeypatch):
    # The fp16 option runs the encoder and the propagation under CUDA
    # autocast; CPU float16 autocast takes the same code path here, so a
    # dtype clash or an overflow shows without a GPU.
    frames = smooth_frames(4)
    given = mask_with((1, (3, 20, 4, 22)), (2, (18, 30, 26, 45)))
    reference = build_model().propagate_video(frames, sample([0], [given]))
    model = build_model(fp16=True)
    monkeypatch.setattr(
        model, 'precision',
        lambda device: torch.autocast('cpu', dtype=torch.float16))
    feat = model.extract_feat(frames[1])
    assert torch.isfinite(feat).all()
    torch.testing.assert_close(
        feat.float(), build_model().extract_feat(frames[1]), atol=2e-2,
        rtol=0)
    for backend in ('dense', 'windowed'):
        model.propagator.backend = backend
        pred = model.propagate_video(frames,
                                     sample([0], [given]))['pred_masks']
        agreement = (pred == reference['pred_masks']).float().mean()
        assert agreement > 0.98, (backend, agreement)


def smooth_frames(num):
    """Frames of a smooth random scene drifting to the right."""
    generator = torch.Generator().manual_seed(4)
    scene = F.interpolate(
        torch.rand(1, 3, 8, 16, generator=generator) * 255,
        (HEIGHT, WIDTH + 2 * num),
        mode='bilinear',
        align_corners=True)[0]
    return torch.stack([scene[:, :, 2 * t:2 * t + WIDTH]
                        for t in range(num)]).round().to(torch.uint8)


# Keypoints (KeypointCodec) through the same frame loop

CELL = 4  # pixels per feature cell of the patch encoder below


class PatchCode(nn.Module):
    """Each 4 x 4 patch, minus its mean, is the feature of its cell: equal
    patches match exactly, random different ones hardly at all."""

    out_stride = size_divisor = CELL

    def forward(self, x):
        batch, _, height, width = x.shape
        patches = F.unfold(x, CELL, stride=CELL)
        patches = patches - patches.mean(dim=1, keepdim=True)
        return patches.view(batch, -1, height // CELL, width // CELL)


MODELS.register_module('TestPatchCode', module=PatchCode, force=True)


def build_keypoint_model(**codec):
    return LabelPropagationSegmentor(
        backbone=dict(type='TestPatchCode'),
        codec=dict(type='KeypointCodec', **codec),
        propagator=dict(type='LabelPropagator', topk=3,
                        context_size=4)).eval()


def texture(height, width, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(
        rng.integers(0, 256, (3, height, width), dtype=np.uint8))


def keypoint_sample(keypoints, visible, **metainfo):
    data_sample = BaseDataElement(
        metainfo=dict(seq_name='v', given_frames=[0], **metainfo))
    data_sample.given_keypoints = torch.tensor([keypoints],
                                               dtype=torch.float32)
    data_sample.given_visible = torch.tensor([visible])
    return data_sample


@pytest.mark.parametrize('ori_shape', [None, (64, 96)])
def test_keypoints_stay_put_through_identical_frames(ori_shape):
    frame = texture(32, 48)
    video = frame[None].repeat(5, 1, 1, 1)
    scale = 1 if ori_shape is None else 2
    # two keypoints on cell positions, one not annotated
    given = torch.tensor([[12., 8.], [32., 20.], [5., 5.]]) * scale
    meta = {} if ori_shape is None else dict(ori_shape=ori_shape)
    data_sample = keypoint_sample(given.tolist(), [True, True, False], **meta)
    model = build_keypoint_model()
    out = model.predict([video], [data_sample])[0]
    keypoints, found = out.pred_keypoints, out.pred_visible
    assert keypoints.shape == (5, 3, 2) and found.shape == (5, 3)
    assert found[:, :2].all() and not found[:, 2].any()
    assert torch.isnan(keypoints[:, 2]).all()
    torch.testing.assert_close(keypoints[0, :2], given[:2])
    # later frames: the given heat maps come back unchanged, so each
    # keypoint decodes where its own Gaussian does, within a quarter cell
    size = ori_shape or (32, 48)
    heat = keypoints_to_heatmaps(given, torch.tensor([True, True, False]),
                                 size, (8, 12), model.codec.sigma)
    expected, _ = heatmaps_to_keypoints(heat, size, model.codec.decode_topk)
    for t in range(1, 5):
        torch.testing.assert_close(keypoints[t, :2], expected[:2])
    assert (keypoints[1:, :2] - given[:2]).abs().max() <= 0.25 * CELL * scale


def test_keypoints_follow_moving_content():
    """The content moves one cell to the right per frame (wrapping round,
    so that every cell has its match in the previous frame)."""
    frame = texture(32, 48, seed=1)
    video = torch.stack(
        [torch.roll(frame, CELL * t, dims=2) for t in range(4)])
    data_sample = keypoint_sample([[12., 16.], [20., 8.]], [True, True])
    out = build_keypoint_model(decode_topk=1).predict([video],
                                                      [data_sample])[0]
    assert out.pred_visible.all()
    for t in range(4):
        torch.testing.assert_close(
            out.pred_keypoints[t],
            torch.tensor([[12. + CELL * t, 16.], [20. + CELL * t, 8.]]))


def test_frames_before_the_given_keypoints_have_none():
    video = texture(16, 16)[None].repeat(3, 1, 1, 1)
    data_sample = keypoint_sample([[4., 4.]], [True])
    data_sample.set_metainfo(dict(given_frames=[1]))
    out = build_keypoint_model().predict([video], [data_sample])[0]
    assert out.pred_visible.tolist() == [[False], [True], [True]]
    assert torch.isnan(out.pred_keypoints[0]).all()
    torch.testing.assert_close(out.pred_keypoints[1], torch.tensor([[4., 4.]]))


def test_given_keypoints_are_needed():
    video = texture(16, 16)[None].repeat(2, 1, 1, 1)
    model = build_keypoint_model()
    data_sample = keypoint_sample([[1., 1.]], [True])
    del data_sample.given_visible
    with pytest.raises(KeyError, match='given_visible'):
        model.predict([video], [data_sample])
    with pytest.raises(ValueError, match='sigma'):
        build_keypoint_model(sigma=0)


def test_keypoint_config_builds_and_tracks():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'propagation', 'jhmdb_val_r18.py'))
    model = MODELS.build(cfg.model).eval()
    assert isinstance(model, LabelPropagationSegmentor)
    assert isinstance(model.codec, KeypointCodec)
    assert (model.propagator.topk,
            model.propagator.context_size) == (10, 20)
    assert (model.codec.sigma, model.codec.decode_topk) == (0.5, 3)
    video = texture(32, 32)[None].repeat(3, 1, 1, 1)
    data_sample = keypoint_sample([[10., 12.]] * 15, [True] * 15,
                                  ori_shape=(24, 32))
    out = model.predict([video], [data_sample])[0]
    assert out.pred_keypoints.shape == (3, 15, 2)
    assert out.pred_visible.all()
    # identical frames: the joint stays in its cell (4 x 3 pixels here)
    assert (out.pred_keypoints[1:] - torch.tensor([10., 12.])).abs().amax(
        dim=(0, 1)).le(torch.tensor([4., 3.])).all()


def test_mask_config_builds_with_its_preprocessor():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'propagation', 'davis2017_val_r18.py'))
    model = MODELS.build(cfg.model)
    assert isinstance(model.codec, MaskCodec)
    assert isinstance(model.data_preprocessor, VideoDataPreprocessor)
    torch.testing.assert_close(model.data_preprocessor.std.flatten(),
                               torch.tensor([58.395, 57.12, 57.375]))
    assert (model.propagator.topk, model.propagator.radius,
            model.propagator.context_size) == (15, 12., 50)


# Any encoder: the stride contract and frames resized for a ViT

TINY_VIT = dict(type='VisionTransformer',
                arch=dict(embed_dims=16, num_layers=1, num_heads=2),
                patch_size=8, img_size=32)


class NoStride(nn.Module):

    def forward(self, x):
        return x[:, :, ::8, ::8]


class WrongStride(NoStride):
    out_stride = 4
    size_divisor = 1


MODELS.register_module('TestNoStride', module=NoStride, force=True)
MODELS.register_module('TestWrongStride', module=WrongStride, force=True)


def test_encoders_must_declare_their_stride():
    with pytest.raises(TypeError, match=r'model.backbone \(NoStride\) must '
                       'declare out_stride'):
        build_model(backbone=dict(type='TestNoStride'))
    with pytest.raises(TypeError, match='model.extra_backbone'):
        build_model(extra_backbone=dict(type='TestNoStride'))
    model = build_model(backbone=dict(type='TestWrongStride'))
    with pytest.raises(ValueError, match='declares out_stride 4'):
        model.extract_feats(noise_frames(1, 0))


@pytest.mark.parametrize('strides,out_indices,stride', [
    ((1, 2, 1), (2, ), 8),
    ((1, 2, 2, 2), (3, ), 32),
    ((1, 2, 2, 2), (3, 1), 8),
])
def test_resnet_declares_the_stride_of_its_last_output(
        strides, out_indices, stride):
    backbone = MODELS.build(
        dict(type='HVCResNet', depth=18, num_stages=len(strides),
             strides=strides, out_indices=out_indices))
    assert backbone.out_stride == stride and backbone.size_divisor == 1
    out = backbone(torch.zeros(1, 3, 64, 96))[-1]
    assert out.shape[2:] == (64 // stride, 96 // stride)


def test_vit_frames_are_floored_to_the_patch_and_labels_stay_at_frame_size():
    model = build_model(backbone=TINY_VIT)
    assert model.feature_stride == 8
    height, width = 30, 45
    frames = torch.randint(0, 256, (3, 3, height, width), dtype=torch.uint8)
    feats = model.extract_feats(frames)
    assert model.input_shape((height, width)) == (24, 40)
    assert feats.shape == (3, 16, 3, 5)
    # the encoder sees the frames resized to 24 x 40
    x = torch.cat([model.data_preprocessor.normalize_frame(f)
                   for f in frames])
    x = F.interpolate(x, (24, 40), mode='bilinear', align_corners=False)
    torch.testing.assert_close(
        feats, F.normalize(model.backbone(x), dim=1))

    given = torch.zeros(height, width, dtype=torch.uint8)
    given[5:20, 10:30] = 2
    out = model.predict([frames], [sample([0], [given])])[0]
    assert out.pred_masks.shape == (3, height, width)
    assert torch.equal(out.pred_masks[0], given)


def test_merged_encoders_share_the_size_divisor():
    model = build_model(
        backbone=TINY_VIT, extra_backbone=dict(TINY_VIT, patch_size=16))
    assert model.input_shape((40, 70)) == (32, 64)
    with pytest.raises(ValueError, match='feature grid'):
        model.extract_feats(torch.zeros(1, 3, 32, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match='smaller than'):
        model.input_shape((10, 70))
