import copy
import math
import uuid

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmengine.structures import BaseDataElement
from torch.utils.data import DataLoader

from mmhvc.models import HVC
from mmhvc.registry import MODELS

torch.set_num_threads(1)

SIZE = 32  # 32x32 crops -> 4x4 maps at output stride 8


def tiny_model_cfg():
    return dict(
        type='HVC',
        backbone=dict(
            type='HVCResNet', depth=18, strides=(1, 2, 1, 1),
            out_indices=(3, )),
        neck=dict(
            type='HVCProjector', in_channels=512, hid_channels=16,
            out_channels=16),
        head=dict(
            type='HVCHead',
            predictor=dict(
                type='HVCProjector', in_channels=16, hid_channels=16,
                out_channels=16),
            flow=dict(
                type='HVCFlowLayer', in_channels=16, hid_channels=8,
                out_channels=2),
            loss=dict(type='HybridCorrespondenceLoss', pos_radius=0.1)),
        base_momentum=0.99)


def target_momentum(t, total):
    return 1 - (1 - 0.99) * (math.cos(math.pi * t / total) + 1) / 2


def make_batch(batch, seed=0):
    """Random views; view 2's box is view 1's shifted by whole bins, so
    several bin centres coincide and the batch has positive pairs."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 2, 3, SIZE, SIZE, generator=gen)
    samples = []
    for _ in range(batch):
        x, y = (torch.rand(2, generator=gen) * 0.25).tolist()
        box = torch.tensor([x, y, x + 0.5, y + 0.5])
        shift = torch.tensor([0.125, 0.25, 0.125, 0.25])  # 1 and 2 bins
        samples.append(BaseDataElement(crop_boxes=torch.stack([box,
                                                               box + shift])))
    return inputs, samples


@pytest.fixture
def message_hub():
    hub = MessageHub.get_instance(f'test_hvc_{uuid.uuid4()}')
    hub.update_info('max_iters', 10)
    return hub


def test_loss_step_gradients_and_ema(message_hub):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    model.init_weights()
    model.train()
    inputs, samples = make_batch(2)

    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_spatial', 'loss_temporal', 'ema_momentum'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['ema_momentum'].item() == pytest.approx(0.99)
    # the first update copies the online branch into the target
    online = dict(model.backbone.named_parameters())
    for name, p in model.target_net.module[0].named_parameters():
        assert torch.equal(p, online[name])
        assert not p.requires_grad

    (losses['loss_spatial'] + losses['loss_temporal']).backward()
    for module in (model.backbone, model.neck, model.head):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads)
        assert sum(g.abs().sum() for g in grads) > 0
    assert all(p.grad is None for p in model.target_net.parameters())

    # an optimiser step moves the online branch; the next loss() moves the
    # target by target' = m_1 * target + (1 - m_1) * online
    torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1).step()
    before = {
        k: v.clone()
        for k, v in model.target_net.module.named_parameters()
    }
    online = {
        '0.' + k: v.detach().clone()
        for k, v in model.backbone.named_parameters()
    }
    online.update({
        '1.' + k: v.detach().clone()
        for k, v in model.neck.named_parameters()
    })
    losses = model(inputs, samples, mode='loss')
    m = target_momentum(1, 10)
    assert losses['ema_momentum'].item() == pytest.approx(m)
    moved = 0
    for name, p in model.target_net.module.named_parameters():
        expected = m * before[name] + (1 - m) * online[name]
        torch.testing.assert_close(p, expected, rtol=1e-5, atol=1e-7)
        moved += int(not torch.equal(p, before[name]))
    assert moved > 0
    assert int(model.target_net.steps) == 2


def test_float16_autocast_loss_step_matches_float32(message_hub):
    """A loss step under CPU float16 autocast, with one view pair that has
    no positive pair (disjoint crops), against the same step in float32."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    model.init_weights()
    inputs, samples = make_batch(2, seed=3)
    samples[0].crop_boxes = torch.tensor([[0., 0., 0.4, 0.4],
                                          [0.6, 0.6, 1., 1.]])
    results = []
    for net, autocast in ((model, False), (copy.deepcopy(model), True)):
        with torch.autocast('cpu', dtype=torch.float16, enabled=autocast):
            losses = net(inputs, samples, mode='loss')
        loss = losses['loss_spatial'] + losses['loss_temporal']
        loss.backward()
        grads = [p.grad for p in net.parameters() if p.requires_grad]
        results.append((loss, grads))
    (loss_32, grads_32), (loss_16, grads_16) = results
    assert loss_32.abs() > 0.1
    assert torch.isfinite(loss_16)
    torch.testing.assert_close(loss_16.float(), loss_32, rtol=0, atol=1e-2)
    assert len(grads_16) == len(grads_32)
    assert all(g is not None and torch.isfinite(g).all() for g in grads_16)


def test_train_step_logs_momentum_and_sums_losses(message_hub):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    model.init_weights()
    inputs, samples = make_batch(2, seed=1)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    log_vars = model.train_step(
        dict(inputs=inputs, data_samples=samples), optim)
    assert log_vars['loss'].item() == pytest.approx(
        log_vars['loss_spatial'].item() + log_vars['loss_temporal'].item(),
        rel=1e-6)
    assert log_vars['ema_momentum'].item() == pytest.approx(0.99)


def test_state_dict_holds_target_and_steps(message_hub):
    model = MODELS.build(tiny_model_cfg())
    inputs, samples = make_batch(2)
    model(inputs, samples, mode='loss')
    state = model.state_dict()
    assert int(state['target_net.steps']) == 1
    assert 'target_net.module.0.layer4.1.bn2.weight' in state
    assert 'target_net.module.1.conv3.weight' in state
    other = MODELS.build(tiny_model_cfg())
    other.load_state_dict(state)
    assert int(other.target_net.steps) == 1


def test_tensor_and_predict_modes_and_bad_inputs(message_hub):
    model = MODELS.build(tiny_model_cfg()).eval()
    assert isinstance(model, HVC)
    inputs, samples = make_batch(2)
    with torch.no_grad():
        (feat, ) = model(inputs[:, 0], mode='tensor')
        (pairs, ) = model(inputs, mode='tensor')
    assert feat.shape == (2, 512, 4, 4)
    assert pairs.shape == (4, 512, 4, 4)
    with pytest.raises(NotImplementedError, match='propagation'):
        model(inputs, samples, mode='predict')
    with pytest.raises(KeyError, match='crop_boxes'):
        model.loss(inputs, [BaseDataElement(), BaseDataElement()])
    with pytest.raises(ValueError, match='one data sample'):
        model.loss(inputs, samples[:1])
    with pytest.raises(ValueError, match=r'\(B, 2, 3, S, S\)'):
        model.loss(inputs[:, 0], samples)
    with pytest.raises(ValueError, match='base_momentum'):
        MODELS.build({**tiny_model_cfg(), 'base_momentum': 1.0})


def _collate(batch):
    return dict(
        inputs=torch.stack([b['inputs'] for b in batch]),
        data_samples=[b['data_samples'] for b in batch])


@pytest.mark.parametrize('train_cfg', [
    dict(type='IterBasedTrainLoop', max_iters=2),
    dict(type='EpochBasedTrainLoop', max_epochs=1),
])
def test_runner_publishes_max_iters(tmp_path, train_cfg):
    inputs, samples = make_batch(4, seed=2)
    dataset = [dict(inputs=x, data_samples=s) for x, s in zip(inputs, samples)]
    loader = DataLoader(dataset, batch_size=2, collate_fn=_collate)
    runner = Runner(
        model=MODELS.build(tiny_model_cfg()),
        work_dir=str(tmp_path),
        train_dataloader=loader,
        train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        default_hooks=dict(checkpoint=None, logger=None),
        default_scope='mmhvc',
        experiment_name=f'test_hvc_runner_{uuid.uuid4()}')
    runner.train()
    assert int(runner.model.target_net.steps) == 2
    logged = runner.message_hub.get_scalar('train/ema_momentum').current()
    assert logged == pytest.approx(target_momentum(1, 2))
