"""State-dict key mapping between the checkpoint layouts HVC weights come in.

Every model converter in ``tools/model_converters/`` is a thin command line
around the functions here, so the rules live in one place.

Layouts:

- **mmhvc training checkpoint** (MMEngine Runner): a dict with ``meta``,
  ``state_dict``, ``optimizer``, ``message_hub`` and ``param_schedulers``.
  ``state_dict`` holds the online model of :class:`~mmhvc.models.HVC`
  (``backbone.*``, ``neck.*``, ``head.*``) and its EMA target branch
  (``target_net.*``: ``target_net.module.0.*`` the target encoder,
  ``target_net.module.1.*`` the target projector, ``target_net.steps``).
- **Official HVC release** (Pei et al.): a training checkpoint is
  ``{'model': ..., 'optimizer': ..., 'epoch': ..., 'args': Namespace}``
  whose ``model`` holds ``online_encoder.*``, ``target_encoder.*``,
  ``online_space_projector.*``, ``target_space_projector.*``,
  ``space_predictor.*`` and ``flow.*``; its released encoder files are
  plain torchvision ResNet state dicts (the online encoder, no ``fc``).
  Wrappers seen in related code bases add ``module.`` (DistributedDataParallel)
  or ``encoder.`` prefixes, or use ``state_dict`` instead of ``model``.
- **Backbone file** (what the converters write): a plain state dict with
  torchvision ResNet key names (``conv1.weight``, ``layer1.0.bn1.bias``,
  ``layer2.0.downsample.0.weight`` ...), loadable by
  :class:`~mmhvc.models.HVCResNet` and, through an ``init_cfg`` of type
  ``Pretrained`` *without* ``prefix``, by any model that builds one.
"""
import hashlib
import io
import os.path as osp
import re
from argparse import Namespace
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from mmhvc.fileio import atomic_torch_save, atomic_write_bytes
from mmhvc.utils import register_checkpoint_safe_globals

BACKBONE_PREFIX = 'backbone.'
TARGET_PREFIX = 'target_net.'
OFFICIAL_ENCODER_PREFIXES = ('module.online_encoder.', 'online_encoder.',
                             'module.encoder.', 'encoder.', 'module.', '')
STATE_DICT_CONTAINERS = ('state_dict', 'model')
TRAINING_STATE_KEYS = ('optimizer', 'message_hub', 'param_schedulers',
                       'ema_state_dict')

_RESNET_KEY = re.compile(
    r'^(conv1|bn1|layer[1-4]\.\d+\.(conv[1-3]|bn[1-3]|downsample\.[01]))\.'
    r'(weight|bias|running_mean|running_var|num_batches_tracked)$')
_BLOCK_KEY = re.compile(r'^layer([1-4])\.(\d+)\.')


class CheckpointConversionError(ValueError):
    """A checkpoint does not have the layout a conversion expects."""


@dataclass
class KeyReport:
    """What a conversion did with every key of the source state dict.

    Attributes:
        kept: Keys copied under their own name.
        renamed: ``(source key, output key)`` pairs.
        dropped: Source keys left out of the output.
    """

    kept: List[str] = field(default_factory=list)
    renamed: List[Tuple[str, str]] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)

    @property
    def num_output(self) -> int:
        """Number of keys in the output state dict."""
        return len(self.kept) + len(self.renamed)

    def add(self, source: str, output: Optional[str]) -> None:
        """Record one source key: ``output`` None means dropped."""
        if output is None:
            self.dropped.append(source)
        elif output == source:
            self.kept.append(source)
        else:
            self.renamed.append((source, output))

    def format(self, verbose: bool = False) -> str:
        """Counts per category and, with ``verbose``, every key."""
        lines = [
            f'kept {len(self.kept)}, renamed {len(self.renamed)}, dropped '
            f'{len(self.dropped)} keys ({self.num_output} written)'
        ]
        if verbose:
            lines += [f'  kept     {key}' for key in self.kept]
            lines += [
                f'  renamed  {src} -> {dst}' for src, dst in self.renamed
            ]
            lines += [f'  dropped  {key}' for key in self.dropped]
        return '\n'.join(lines)


def is_resnet_key(key: str) -> bool:
    """Whether ``key`` names a parameter or buffer of a torchvision-layout
    ResNet encoder (stem and ``layer1``..``layer4``; ``fc`` excluded)."""
    return _RESNET_KEY.match(key) is not None


def load_checkpoint_file(path: str, trust_pickle: bool = False) -> Any:
    """Load a checkpoint on the CPU.

    By default only tensors, containers, the types of an MMEngine Runner
    checkpoint (see :mod:`mmhvc.utils.checkpoint`) and ``argparse.Namespace``
    (the ``args`` entry of official HVC checkpoints) are unpickled (on torch
    >= 2.5; older versions cannot restrict unpickling).

    Args:
        path: Checkpoint file.
        trust_pickle: Unpickle arbitrary objects (``weights_only=False``);
            only for files from a trusted source.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointConversionError: The file is not a torch checkpoint, or
            it holds other objects and ``trust_pickle`` is False.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    # torch < 2.5 cannot allow-list types; it unpickles everything by default.
    safe_globals = getattr(torch.serialization, 'safe_globals', None)
    try:
        if trust_pickle or safe_globals is None:
            return torch.load(path, map_location='cpu', weights_only=False)
        register_checkpoint_safe_globals()
        with safe_globals([Namespace]):
            return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        hint = '' if trust_pickle else (
            ' If it holds other Python objects and comes from a source you '
            'trust, pass --trust-pickle to unpickle them.')
        raise CheckpointConversionError(
            f'Could not load the checkpoint {path}: {e}.{hint}') from e


def find_state_dict(checkpoint: Any,
                    source: str = 'checkpoint') -> Tuple[Dict[str, Any], str]:
    """The state dict inside a loaded checkpoint.

    Args:
        checkpoint: A loaded checkpoint: a state dict itself, or a dict
            holding one under ``state_dict`` (MMEngine) or ``model``
            (official HVC).
        source: Name of the checkpoint (e.g. its path) for error messages.

    Returns:
        ``(state_dict, container)`` with ``container`` the key it was found
        under, or ``''`` when the checkpoint is the state dict.
    """
    if not isinstance(checkpoint, Mapping):
        raise CheckpointConversionError(
            f'{source}: expected a dict, got {type(checkpoint).__name__}.')
    for container in STATE_DICT_CONTAINERS:
        if isinstance(checkpoint.get(container), Mapping):
            return dict(checkpoint[container]), container
    if checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return dict(checkpoint), ''
    raise CheckpointConversionError(
        f'{source}: no state dict found: neither a dict of tensors nor a dict '
        f'with one of {list(STATE_DICT_CONTAINERS)}; top-level keys: '
        f'{sorted(map(str, checkpoint))[:20]}.')


def select_encoder_prefix(
        keys: Sequence[str],
        prefixes: Sequence[str] = OFFICIAL_ENCODER_PREFIXES) -> Optional[str]:
    """The first of ``prefixes`` under which some key names a ResNet
    parameter (:func:`is_resnet_key` after removing the prefix), or None."""
    for prefix in prefixes:
        if any(
                key.startswith(prefix) and is_resnet_key(key[len(prefix):])
                for key in keys):
            return prefix
    return None


def _take_prefixed(state_dict: Mapping[str, Any], prefix: str,
                   source: str) -> Tuple[Dict[str, Any], KeyReport]:
    """Keep the ResNet keys under ``prefix`` (without it); drop the rest."""
    output: Dict[str, Any] = {}
    report = KeyReport()
    for key, value in state_dict.items():
        name = key[len(prefix):] if key.startswith(prefix) else None
        if name is None or not is_resnet_key(name):
            report.add(key, None)
            continue
        output[name] = value
        report.add(key, name)
    if not output:
        raise CheckpointConversionError(
            f'{source}: no ResNet encoder key under the prefix "{prefix}" '
            f'(e.g. "{prefix}conv1.weight"); nothing to convert.')
    return output, report


def convert_official(
        state_dict: Mapping[str, Any],
        prefix: Optional[str] = None,
        source: str = 'checkpoint') -> Tuple[Dict[str, Any], KeyReport]:
    """Official HVC (or torchvision-style) weights -> backbone state dict.

    Keeps the online encoder: the keys under ``prefix`` that name ResNet
    parameters, without the prefix. The target encoder, projectors,
    predictor, flow layer and a classifier ``fc`` are dropped.

    Args:
        state_dict: The source state dict (see :func:`find_state_dict`).
        prefix: Prefix of the encoder keys; None picks the first of
            :data:`OFFICIAL_ENCODER_PREFIXES` that matches.
        source: Name of the checkpoint for error messages.
    """
    if prefix is None:
        prefix = select_encoder_prefix(list(state_dict))
        if prefix is None:
            raise CheckpointConversionError(
                f'{source}: no ResNet encoder keys found under any of the '
                f'prefixes {list(OFFICIAL_ENCODER_PREFIXES)}; first keys: '
                f'{list(state_dict)[:10]}.')
    return _take_prefixed(state_dict, prefix, source)


def extract_backbone(
        state_dict: Mapping[str, Any],
        prefix: str = BACKBONE_PREFIX,
        source: str = 'checkpoint') -> Tuple[Dict[str, Any], KeyReport]:
    """mmhvc model state dict -> backbone state dict.

    Keeps the online encoder (``backbone.*``, prefix removed); the EMA
    target (``target_net.*``), neck, head and any other key are dropped.
    """
    return _take_prefixed(state_dict, prefix, source)


def strip_training_state(
        checkpoint: Mapping[str, Any],
        backbone_only: bool = False,
        source: str = 'checkpoint'
) -> Tuple[Dict[str, Any], KeyReport, List[str]]:
    """An mmhvc Runner checkpoint reduced to what inference needs.

    Args:
        checkpoint: The loaded Runner checkpoint.
        backbone_only: Keep only the encoder (keys without ``backbone.``)
            instead of the whole online model.
        source: Name of the checkpoint for error messages.

    Returns:
        ``(published, report, removed)``: ``published`` is
        ``dict(meta=..., state_dict=...)`` (``meta`` only when the source
        has one); the state dict drops the EMA target branch
        (``target_net.*``); ``removed`` lists the dropped top-level entries
        (optimizer, message hub, schedulers ...).
    """
    state_dict, container = find_state_dict(checkpoint, source)
    if backbone_only:
        output, report = extract_backbone(state_dict, source=source)
    else:
        output, report = {}, KeyReport()
        for key, value in state_dict.items():
            keep = not key.startswith(TARGET_PREFIX)
            report.add(key, key if keep else None)
            if keep:
                output[key] = value
        if not output:
            raise CheckpointConversionError(
                f'{source}: every key belongs to the EMA target '
                f'("{TARGET_PREFIX}*"); nothing to publish.')
    published: Dict[str, Any] = {}
    if container and isinstance(checkpoint.get('meta'), Mapping):
        published['meta'] = dict(checkpoint['meta'])
    published['state_dict'] = output
    removed = [
        str(key) for key in checkpoint
        if container and key not in ('meta', container)
    ]
    return published, report, removed


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
    from ..backbones import HVCResNet

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
    """Load a backbone state dict into a matching :class:`HVCResNet`.

    Every key must be used and every parameter must have the right shape;
    only ``num_batches_tracked`` buffers may be absent.

    Returns:
        ``(depth, num_stages)`` of the encoder the weights fit.
    """
    from ..backbones import HVCResNet

    depth, num_stages, in_channels = infer_resnet_arch(state_dict, source)
    model = HVCResNet(
        depth=depth,
        in_channels=in_channels,
        num_stages=num_stages,
        out_indices=(num_stages - 1, ))
    expected = model.state_dict()
    missing = [
        k for k in expected
        if k not in state_dict and not k.endswith('num_batches_tracked')
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


def save_checkpoint_atomic(obj: Any,
                           path: str,
                           hash_suffix: bool = False) -> str:
    """``torch.save`` ``obj`` so that the output is either absent or complete.

    Args:
        obj: What to save.
        path: Output file.
        hash_suffix: Name the file ``<stem>-<sha8>.pth`` (OpenMMLab release
            naming): the first 8 hexadecimal digits of the file's sha256
            are inserted before the ``.pth`` extension (which is appended to
            ``path`` when absent).

    Returns:
        The path of the written file.
    """
    if not hash_suffix:
        atomic_torch_save(obj, path)
        return path
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    stem = path[:-len('.pth')] if path.endswith('.pth') else path
    path = f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth'
    atomic_write_bytes(path, data)
    return path
