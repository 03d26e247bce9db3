import pytest
import torch

from mmhvc.checkpoint import CheckpointConversionError
from mmhvc.models import HVCResNet
from mmhvc.models.backbones import check_backbone_state_dict, infer_resnet_arch


@pytest.fixture(scope='module')
def r18():
    return HVCResNet(depth=18).state_dict()


def test_infer_resnet_arch(r18):
    assert infer_resnet_arch(r18) == (18, 4, 3)
    three = {k: v for k, v in r18.items() if not k.startswith('layer4.')}
    assert infer_resnet_arch(three) == (18, 3, 3)
    r50 = HVCResNet(depth=50, num_stages=2, out_indices=(1, )).state_dict()
    assert infer_resnet_arch(r50) == (50, 2, 3)
    gap = {k: v for k, v in r18.items() if not k.startswith('layer2.')}
    with pytest.raises(CheckpointConversionError, match='without gaps'):
        infer_resnet_arch(gap)
    no_stem = {k: v for k, v in r18.items() if k != 'conv1.weight'}
    with pytest.raises(CheckpointConversionError, match='"conv1.weight"'):
        infer_resnet_arch(no_stem, 'stem.pth')


def test_check_backbone_state_dict(r18):
    no_counters = {
        k: v
        for k, v in r18.items() if not k.endswith('num_batches_tracked')
    }
    assert check_backbone_state_dict(no_counters) == (18, 4)
    wrong = dict(r18)
    wrong['layer1.0.conv1.weight'] = torch.zeros(64, 64, 1, 1)
    with pytest.raises(CheckpointConversionError, match='shape mismatch'):
        check_backbone_state_dict(wrong, 'bad.pth')
    missing = {k: v for k, v in r18.items() if k != 'layer2.1.bn1.weight'}
    with pytest.raises(CheckpointConversionError, match='layer2.1.bn1'):
        check_backbone_state_dict(missing)
    extra = dict(r18, **{'layer1.0.conv9.weight': torch.zeros(1)})
    with pytest.raises(CheckpointConversionError,
                       match=r"unexpected \['layer1.0.conv9.weight'\]"):
        check_backbone_state_dict(extra)
