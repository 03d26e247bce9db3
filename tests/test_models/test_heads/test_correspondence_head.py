import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmhvc.datasets.transforms import RandomResizedCropPair
from mmhvc.models import HVCFlowLayer, HVCHead
from mmhvc.models.losses import coord_positive_mask

from dense_loss_oracle import DenseHybridCorrespondenceLoss

torch.set_num_threads(1)


def small_head():
    return HVCHead(
        predictor=dict(
            type='HVCProjector', in_channels=8, hid_channels=6,
            out_channels=8),
        flow=dict(
            type='HVCFlowLayer', in_channels=8, hid_channels=4,
            out_channels=2),
        loss=dict(type='HybridCorrespondenceLoss', pos_radius=0.3))


def test_flow_layer_formula_and_order():
    torch.manual_seed(0)
    layer = HVCFlowLayer(in_channels=3, hid_channels=4, out_channels=2)
    for bn in (layer.bn1, layer.bn2):
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.)
    layer.eval()
    q, k = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    with torch.no_grad():
        out = layer(q, k)
        x = torch.cat([q, k], 1)
        x = F.conv2d(x, layer.conv1.weight, layer.conv1.bias)
        x = F.batch_norm(x, layer.bn1.running_mean, layer.bn1.running_var,
                         layer.bn1.weight, layer.bn1.bias)
        x = F.conv2d(F.relu(x), layer.conv2.weight, layer.conv2.bias)
        expected = F.batch_norm(x, layer.bn2.running_mean,
                                layer.bn2.running_var, layer.bn2.weight,
                                layer.bn2.bias)
        assert out.shape == (2, 2, 4, 5)
        torch.testing.assert_close(out, expected)
        assert not torch.allclose(layer(k, q), out)
    with pytest.raises(ValueError, match='HVCFlowLayer'):
        layer(q, k[:, :2])


def test_head_loss_matches_reference_wiring():
    torch.manual_seed(0)
    head = small_head()
    reference = DenseHybridCorrespondenceLoss(pos_radius=0.3)
    online = [torch.randn(2, 8, 4, 4, requires_grad=True) for _ in range(2)]
    target = [torch.randn(2, 8, 4, 4, requires_grad=True) for _ in range(2)]
    boxes = torch.tensor([[[0.1, 0.1, 0.6, 0.7], [0.2, 0.15, 0.7, 0.8]],
                          [[0., 0., 1., 1.], [0.3, 0.2, 0.9, 0.6]]])
    losses = head.loss(*online, *target, boxes)
    assert set(losses) == {'loss_spatial', 'loss_temporal'}

    # independent re-computation: p_a = norm(predictor(online_a)),
    # z_b = norm(target_b), flow(p_a, z_b) / flow(z_b, p_a), both directions
    spatial = temporal = 0
    with torch.no_grad():
        for a, b in ((0, 1), (1, 0)):
            p = F.normalize(head.predictor(online[a])[0], dim=1)
            z = F.normalize(target[b], dim=1)
            s, t = reference(p, z, head.flow(p, z), head.flow(z, p),
                             boxes[:, a], boxes[:, b])
            spatial, temporal = spatial + s, temporal + t
    torch.testing.assert_close(losses['loss_spatial'], spatial)
    torch.testing.assert_close(losses['loss_temporal'], temporal)

    (losses['loss_spatial'] + losses['loss_temporal']).backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in online)
    assert all(x.grad is None for x in target)
    assert head.flow.conv1.weight.grad.abs().sum() > 0
    assert head.predictor.conv1.weight.grad.abs().sum() > 0


def test_default_flow_layer_and_bad_boxes():
    head = HVCHead(
        predictor=dict(type='HVCProjector'),
        loss=dict(type='HybridCorrespondenceLoss'))
    assert head.flow.conv1.in_channels == 512
    assert head.flow.conv2.out_channels == 2
    x = torch.randn(2, 256, 2, 2)
    with pytest.raises(ValueError, match='boxes'):
        head.loss(x, x, x, x, torch.zeros(2, 4))


def paper_crop_boxes(batch, seed):
    """(batch, 2, 4) view boxes drawn by the paper's crop on a 480x640
    image (area fraction in (0, 1], aspect ratio in [3/4, 4/3])."""
    np.random.seed(seed)
    crop = RandomResizedCropPair(size=8)
    image = np.zeros((480, 640, 3), np.uint8)
    return torch.stack([
        torch.from_numpy(crop.transform(dict(img=image))['crop_boxes'])
        for _ in range(batch)
    ])


def test_float16_autocast_at_paper_size_matches_float32():
    """Batch 8, 256-channel 32x32 projections (256-pixel crops at stride
    8) and crop boxes of which one pair shares no positive pair, as random
    crops often do. The hidden layers are narrow (CPU float16 convolutions
    are slow); the loss sees the paper's (8, 256, 32, 32) maps."""
    torch.manual_seed(0)
    boxes = paper_crop_boxes(8, seed=0)
    counts = coord_positive_mask(boxes[:, 0], boxes[:, 1], (32, 32),
                                 0.1).sum((1, 2))
    assert (counts == 0).any() and (counts > 0).any()
    head = HVCHead(
        predictor=dict(
            type='HVCProjector', in_channels=256, hid_channels=32,
            out_channels=256),
        flow=dict(
            type='HVCFlowLayer', in_channels=256, hid_channels=32,
            out_channels=2),
        loss=dict(type='HybridCorrespondenceLoss', pos_radius=0.1))
    # both views share a per-sample component, and the targets are the
    # predictions, so the positive pairs are similar and the loss is O(1)
    shared = torch.randn(8, 256, 1, 1)
    online = [shared + 0.5 * torch.randn(8, 256, 32, 32) for _ in range(2)]
    with torch.no_grad():
        target = [head.predictor(x)[0] for x in online]

    results = []
    for model, dtype in ((head, torch.float32),
                         (copy.deepcopy(head), torch.float16)):
        inputs = [x.clone().requires_grad_() for x in online]
        # under autocast, the target branch hands over float16 projections
        with torch.autocast(
                'cpu', dtype=torch.float16, enabled=dtype == torch.float16):
            losses = model.loss(*inputs, *(x.to(dtype) for x in target),
                                boxes)
        loss = losses['loss_spatial'] + losses['loss_temporal']
        loss.backward()
        grads = [p.grad for p in model.parameters()] + [
            x.grad for x in inputs
        ]
        results.append((loss, grads))
    (loss_32, grads_32), (loss_16, grads_16) = results

    assert loss_32.abs() > 1
    assert torch.isfinite(loss_16)
    torch.testing.assert_close(loss_16.float(), loss_32, rtol=1e-3, atol=0)
    assert all(torch.isfinite(g).all() for g in grads_16)
    flat_16 = torch.cat([g.float().flatten() for g in grads_16])
    flat_32 = torch.cat([g.flatten() for g in grads_32])
    assert (flat_16 - flat_32).norm() < 0.05 * flat_32.norm()
