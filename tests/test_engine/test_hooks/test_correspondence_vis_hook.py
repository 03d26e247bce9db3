import copy
import os.path as osp
import random
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.structures import BaseDataElement
from mmengine.visualization import Visualizer

from mmhvc.engine.hooks.correspondence_vis_hook import \
    CorrespondenceVisualizationHook
from mmhvc.registry import MODELS
from mmhvc.visualization.layout import add_title

CROP = 32


def tiny_hvc(max_iters=10):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='HVC',
            data_preprocessor=dict(
                type='HVCDataPreprocessor',
                mean=[125., 123., 114.],
                std=[52., 51., 51.],
                bgr_to_rgb=True),
            # one residual stage at stride 4: an 8x8 grid for 32x32 views
            backbone=dict(
                type='HVCResNet',
                depth=18,
                num_stages=1,
                strides=(1, ),
                out_indices=(0, )),
            neck=dict(
                type='HVCProjector',
                in_channels=64,
                hid_channels=16,
                out_channels=16),
            head=dict(
                type='HVCHead',
                predictor=dict(
                    type='HVCProjector',
                    in_channels=16,
                    hid_channels=16,
                    out_channels=16),
                flow=dict(
                    type='HVCFlowLayer',
                    in_channels=16,
                    hid_channels=8,
                    out_channels=2),
                loss=dict(type='HybridCorrespondenceLoss', pos_radius=0.1))))
    # outside a Runner the EMA schedule needs its length
    model.target_net.max_iters = max_iters
    return model


def make_batch(tmp_path, num=2):
    """Two samples whose views are crops of images written to tmp_path."""
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    boxes = [[[0.0, 0.0, 0.6, 0.7], [0.3, 0.2, 1.0, 1.0]],
             [[0.1, 0.1, 0.9, 0.9], [0.2, 0.0, 0.8, 0.6]]]
    for k in range(num):
        image = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
        path = str(tmp_path / f'img{k}.png')
        cv2.imwrite(path, image)
        views = []
        for x1, y1, x2, y2 in boxes[k]:
            crop = image[round(y1 * 39):round(y2 * 39) + 1,
                         round(x1 * 55):round(x2 * 55) + 1]
            views.append(cv2.resize(crop, (CROP, CROP)))
        inputs.append(
            torch.from_numpy(np.stack(views).transpose(0, 3, 1, 2).copy()))
        samples.append(
            BaseDataElement(
                metainfo=dict(img_path=path, ori_shape=(40, 56)),
                crop_boxes=torch.tensor(boxes[k], dtype=torch.float32)))
    return dict(inputs=inputs, data_samples=samples)


def make_runner(model, tmp_path, iteration, name):
    visualizer = Visualizer(
        name=name,
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'vis'))
    return SimpleNamespace(model=model, iter=iteration, visualizer=visualizer)


def optim(model):
    return build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-2)))


def rng_states():
    return (torch.get_rng_state(), np.random.get_state()[1].copy(),
            random.getstate())


def assert_same_rng(a, b):
    assert torch.equal(a[0], b[0])
    assert np.array_equal(a[1], b[1])
    assert a[2] == b[2]


def model_state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_hook_writes_images_through_visualizer(tmp_path):
    torch.set_num_threads(1)
    model = tiny_hvc()
    batch = make_batch(tmp_path)
    hook = CorrespondenceVisualizationHook(
        interval=3, num_samples=2, num_pairs=4, display_size=48)
    runner = make_runner(model, tmp_path, 2, 'corr_vis_images')
    hook.before_train_iter(runner, 0, batch)
    model.train_step(batch, optim(model))
    hook.after_train_iter(runner, 0, batch, None)

    image_dir = tmp_path / 'vis' / 'vis_data' / 'vis_image'
    pairs = cv2.imread(str(image_dir / 'train_crop_pairs_3.png'))
    flow = cv2.imread(str(image_dir / 'train_pseudo_flow_3.png'))
    title = add_title(np.zeros((1, 1, 3), np.uint8), 'x').shape[0] - 1
    # titled rows [source | view 1 | view 2] of height 48, 4 px apart
    source_w = round(56 * 48 / 40)
    assert pairs.shape == (2 * (48 + title) + 4, source_w + 2 * 48 + 2 * 4, 3)
    assert pairs.std() > 0
    # a title over: arrows + colours per view (titled), the colour key
    # (max(16, 48 // 3))
    assert flow.shape == (48 + 2 * title, 4 * 48 + 16 + 4 * 4, 3)
    assert not model.head.flow._forward_hooks


def test_hook_does_not_change_training(tmp_path):
    torch.set_num_threads(1)
    reference = tiny_hvc()
    model = copy.deepcopy(reference)
    batch = make_batch(tmp_path)
    hook = CorrespondenceVisualizationHook(interval=1, display_size=None)
    runner = make_runner(model, tmp_path, 0, 'corr_vis_same')

    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    reference.train_step(batch, optim(reference))
    expected_rng = rng_states()

    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    hook.before_train_iter(runner, 0, batch)
    model.train_step(batch, optim(model))
    after_step = model_state(model)
    before_hook_rng = rng_states()
    hook.after_train_iter(runner, 0, batch, None)

    assert osp.isfile(tmp_path / 'vis' / 'vis_data' / 'vis_image' /
                      'train_pseudo_flow_1.png')
    # the hook's drawing changes neither the model nor any generator ...
    assert_same_rng(before_hook_rng, rng_states())
    for key, value in model_state(model).items():
        assert torch.equal(value, after_step[key]), key
    # ... and the step with the hook equals the step without it
    assert_same_rng(expected_rng, rng_states())
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_hook_records_the_loss_fields(tmp_path):
    """The drawn fields are the flow layer's first two outputs of the step
    (forward field, then backward field, sample 0)."""
    model = tiny_hvc()
    batch = make_batch(tmp_path)
    seen = []
    model.head.flow.register_forward_hook(
        lambda m, a, out: seen.append(out[0].detach().clone()))
    hook = CorrespondenceVisualizationHook(interval=1)
    drawn = []
    hook.draw_flow = lambda views, fields: drawn.append(fields) or \
        np.zeros((4, 4, 3), np.uint8)
    runner = make_runner(model, tmp_path, 0, 'corr_vis_fields')
    hook.before_train_iter(runner, 0, batch)
    model.train_step(batch, optim(model))
    hook.after_train_iter(runner, 0, batch, None)
    assert len(seen) == 4 and len(drawn) == 1
    assert torch.equal(drawn[0][0], seen[0])
    assert torch.equal(drawn[0][1], seen[1])
    assert drawn[0][0].shape == (2, CROP // 4, CROP // 4)


def test_hook_idle_between_intervals(tmp_path):
    model = tiny_hvc()
    batch = make_batch(tmp_path)
    hook = CorrespondenceVisualizationHook(interval=5)
    runner = make_runner(model, tmp_path, 2, 'corr_vis_idle')
    hook.before_train_iter(runner, 0, batch)
    assert not model.head.flow._forward_hooks
    hook.after_train_iter(runner, 0, batch, None)
    assert not (tmp_path / 'vis' / 'vis_data' / 'vis_image').exists()


def test_hook_rejects_bad_settings_and_inputs(tmp_path):
    with pytest.raises(ValueError, match='interval'):
        CorrespondenceVisualizationHook(interval=0)
    for setting, message in [
        (dict(num_samples=0), 'num_samples must be >= 1, got 0'),
        (dict(num_pairs=-1), 'num_pairs must be >= 0, got -1'),
        (dict(feat_stride=0), 'feat_stride must be >= 1, got 0'),
        (dict(display_size=0), 'display_size must be >= 1, got 0'),
    ]:
        with pytest.raises(ValueError, match=message):
            CorrespondenceVisualizationHook(**setting)
    assert CorrespondenceVisualizationHook(
        num_pairs=0, display_size=None).display_size is None
    model = tiny_hvc()
    batch = make_batch(tmp_path, num=1)
    batch['data_samples'] = [BaseDataElement(crop_boxes=torch.zeros(2, 4))]
    hook = CorrespondenceVisualizationHook(interval=1, flow_module=None)
    runner = make_runner(model, tmp_path, 0, 'corr_vis_bad')
    with pytest.raises(KeyError, match='img_path'):
        hook.after_train_iter(runner, 0, batch, None)


def test_hook_in_runner(tmp_path):
    """Built from a config by MMEngine's Runner; images land in the run's
    vis_data."""
    from mmengine.runner import Runner
    rng = np.random.default_rng(1)
    (tmp_path / 'images').mkdir()
    for k in range(4):
        cv2.imwrite(
            str(tmp_path / 'images' / f'{k}.jpg'),
            rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    model = tiny_hvc(max_iters=None)
    runner = Runner(
        model=model,
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate'),
            dataset=dict(
                type='StaticImageDataset',
                data_root=str(tmp_path),
                data_prefix=dict(img_path='images'),
                pipeline=[
                    dict(type='LoadImageWithCheck'),
                    dict(type='RandomResizedCropPair', size=CROP),
                    dict(type='PackCropPairInputs')
                ])),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=2),
        default_hooks=dict(logger=None, checkpoint=None),
        custom_hooks=[
            dict(
                type='CorrespondenceVisualizationHook',
                interval=2,
                display_size=None)
        ],
        visualizer=dict(
            type='Visualizer',
            name='corr_vis_runner',
            vis_backends=[dict(type='LocalVisBackend')]),
        default_scope='mmhvc')
    runner.train()
    image_dir = osp.join(runner.log_dir, 'vis_data', 'vis_image')
    for name in ('train_crop_pairs_2.png', 'train_pseudo_flow_2.png'):
        image = cv2.imread(osp.join(image_dir, name))
        assert image is not None and image.size > 0, name
    assert not osp.exists(osp.join(image_dir, 'train_crop_pairs_1.png'))
