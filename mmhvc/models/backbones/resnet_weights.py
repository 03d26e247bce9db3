"""Which :class:`HVCResNet` a backbone state dict belongs to, and whether it
fits it.

The model converters check every backbone file they write with
:func:`check_backbone_state_dict`; the key layouts themselves live in
:mod:`mmhvc.checkpoint.layouts`, which knows nothing of the model classes.
"""
import re
from typing import Any, Dict, Mapping, Tuple

from mmhvc.checkpoint import CheckpointConversionError, is_optional_key
from .hvc_resnet import HVCResNet

_BLOCK_KEY = re.compile(r'^layer([1-4])\.(\d+)\.')


def infer_resnet_arch(state_dict: Mapping[str, Any],
                      source: str = 'checkpoint') -> Tuple[int, int, int]:
    """Depth, number of stages and input channels of a backbone state dict.

    Args:
        state_dict: Keys with torchvision ResNet names (no prefix).
        source: Name of the checkpoint for error messages.

    Returns:
        ``(depth, num_stages, in_channels)`` for :class:`HVCResNet`; where
        several depths share the present stages (layer4 absent) the
        smallest is returned, which has the same parameters.
    """
    if 'conv1.weight' not in state_dict:
        raise CheckpointConversionError(
            f'{source}: "conv1.weight" is missing; not a ResNet backbone '
            'state dict.')
    blocks: Dict[int, int] = {}
    for key in state_dict:
        match = _BLOCK_KEY.match(key)
        if match:
            stage, index = int(match.group(1)), int(match.group(2))
            blocks[stage] = max(blocks.get(stage, 0), index + 1)
    num_stages = len(blocks)
    if sorted(blocks) != list(range(1, num_stages + 1)):
        raise CheckpointConversionError(
            f'{source}: ResNet stages must be layer1..layerN without gaps, '
            f'found {sorted(blocks)}.')
    bottleneck = 'layer1.0.conv3.weight' in state_dict
    counts = tuple(blocks[i] for i in range(1, num_stages + 1))
    for depth, (block,
                stage_blocks) in sorted(HVCResNet.arch_settings.items()):
        if (block.expansion == 4) == bottleneck and \
                tuple(stage_blocks[:num_stages]) == counts:
            return depth, num_stages, int(state_dict['conv1.weight'].shape[1])
    raise CheckpointConversionError(
        f'{source}: {"bottleneck" if bottleneck else "basic"} blocks per '
        f'stage {counts} match no ResNet depth in '
        f'{sorted(HVCResNet.arch_settings)}.')


def check_backbone_state_dict(state_dict: Mapping[str, Any],
                              source: str = 'checkpoint') -> Tuple[int, int]:
    """Check a backbone state dict against a matching :class:`HVCResNet`.

    Every key must be used and every parameter must have the right shape;
    only the optional buffers (``num_batches_tracked``) may be absent.

    Returns:
        ``(depth, num_stages)`` of the encoder the weights fit.
    """
    depth, num_stages, in_channels = infer_resnet_arch(state_dict, source)
    model = HVCResNet(
        depth=depth,
        in_channels=in_channels,
        num_stages=num_stages,
        out_indices=(num_stages - 1, ))
    expected = model.state_dict()
    missing = [
        k for k in expected if k not in state_dict and not is_optional_key(k)
    ]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f'{k}: {tuple(state_dict[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items()
        if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or mismatched:
        raise CheckpointConversionError(
            f'{source}: the weights do not fit HVCResNet(depth={depth}, '
            f'num_stages={num_stages}): missing {missing[:10]}, unexpected '
            f'{unexpected[:10]}, shape mismatches {mismatched[:10]}.')
    return depth, num_stages
