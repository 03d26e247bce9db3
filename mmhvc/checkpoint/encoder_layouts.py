"""Key maps from public self-supervised checkpoints to mmhvc encoders.

:func:`convert_encoder` turns the weights a method released into the state
dict of an mmhvc encoder, strictly: the parts of the method's model that are
not the encoder (heads, projectors, predictors, classifiers, queues, momentum
or target encoders ...) are dropped and reported, and any other key that
does not map is an error. Two target layouts exist:

- **ResNet**: torchvision names as :class:`~mmhvc.models.HVCResNet` loads
  them (:func:`~mmhvc.checkpoint.is_resnet_key`); ``fc`` is dropped.
- **ViT**: the DINO / DINOv2 / timm names (:func:`is_vit_key`):
  ``cls_token`` (1, 1, C), ``pos_embed`` (1, 1 + N, C), optional
  ``register_tokens`` (1, R, C), ``patch_embed.proj.*``,
  ``blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*``,
  optional ``blocks.{i}.ls1.gamma`` / ``ls2.gamma`` (LayerScale) and
  ``norm.*``.

Every layout accepts the whole loaded checkpoint or the state dict inside it
(:func:`encoder_state_dict` picks the entry holding the encoder), and strips
a leading ``module.`` (DataParallel / DistributedDataParallel) from every
key before the rules below. Layouts (``layout=`` name, then what the files
hold):

- ``mmhvc``: mmhvc Runner checkpoints (``state_dict``: ``backbone.*``; the
  EMA target ``target_net.*``, ``neck.*``, ``head.*``, ``extra_backbone.*``
  and ``data_preprocessor.*`` are dropped), mmhvc backbone files (bare
  torchvision names) and official HVC checkpoints (``model``:
  ``online_encoder.*``; ``target_encoder.*``, the space projectors, the
  space predictor and ``flow.*`` are dropped), as described in
  :mod:`mmhvc.checkpoint.layouts`.
- ``torchvision``: a bare ResNet state dict (also inside ``state_dict`` or
  ``model``, as in VFS's converted backbone files); ``fc.*`` is dropped.
- ``crw`` (ajabri/videowalk, ``pretrained.pth``): ``model`` holds the CRW
  model, whose encoder is a torchvision ResNet wrapped as ``encoder.model.*``;
  the node head ``selfsim_fc.*`` is dropped. Convolutions stored as
  ``conv1.1.weight`` / ``conv2.1.weight`` (a padding layer in front, as
  CRW's ``test.py`` expects of older checkpoints) are renamed to
  ``conv1.weight`` / ``conv2.weight``.
- ``vfs`` (xvjiarui/VFS, mmaction2): ``state_dict`` holds ``backbone.*``
  with mmcv ``ConvModule`` names, renamed to torchvision ones:
  ``conv1.conv`` -> ``conv1``, ``conv1.bn`` -> ``bn1``,
  ``layerX.Y.convK.conv`` -> ``layerX.Y.convK``, ``layerX.Y.convK.bn`` ->
  ``layerX.Y.bnK``, ``downsample.conv`` / ``downsample.bn`` ->
  ``downsample.0`` / ``downsample.1``; the heads ``img_head.*`` and
  ``cls_head.*`` are dropped.
- ``dul`` (araslanov/dense-ulearn-vos, snapshots such as
  ``ytvos_e060_res4.pth``): ``model`` holds the training framework:
  ``fast_net.backbone.*`` is a torchvision ResNet-18, the projection
  ``fast_net.emb_q.*`` is dropped.
- ``sfc`` (Alxead/SFC, ``pretrained_fc.pth``): ``model`` holds
  ``online_encoder.*`` (torchvision names); ``target_encoder.*``,
  ``online_projector.*``, ``target_projector.*`` and ``predictor.*`` are
  dropped.
- ``moco`` (MoCo v1/v2): ``state_dict`` holds ``encoder_q.*``
  (torchvision names); ``encoder_q.fc.*`` (the embedding or MLP head),
  ``encoder_k.*``, ``queue`` and ``queue_ptr`` are dropped.
- ``dino``: the released backbone files (``dino_deitsmall8_pretrain.pth``
  ..., bare ViT names; ``dino_resnet50_pretrain.pth``, bare torchvision
  names) and full checkpoints, of which the ``teacher`` entry is taken, as
  DINO's own evaluation does: ``backbone.*`` is the encoder and ``head.*``
  (the DINO head) is dropped, as are ``fc.*`` and ``head.*`` of bare files.
- ``dinov2``: the hub files (``dinov2_vits14_pretrain.pth`` ...,
  ``*_reg4_pretrain.pth`` with ``register_tokens``; ``mask_token`` is
  dropped), the ``teacher`` entry of a DINOv2 ``teacher_checkpoint.pth``
  (``backbone.*``; ``dino_head.*`` and ``ibot_head.*`` are dropped), and
  timm's layout of the same weights. Chunked blocks (``blocks.C.I.*``, the
  training model's ``block_chunks``, where ``I`` counts over all blocks) are
  renamed to ``blocks.I.*``. timm names the registers ``reg_token`` and
  keeps, in its register models, no position for the class token: the class
  position is folded into ``cls_token``; the conversion renames
  ``reg_token`` to ``register_tokens`` and puts a zero class position in
  front of ``pos_embed``, which gives the same token embeddings. The SwiGLU
  feed-forward of ViT-g/14 (``mlp.w12`` / ``mlp.w3``) has no counterpart in
  the target layout and is refused.
"""
import re
from dataclasses import dataclass
from typing import (Any, Callable, Dict, List, Mapping, Optional, Pattern,
                    Tuple)

import torch

from .io import CheckpointConversionError, find_state_dict
from .layouts import (BACKBONE_PREFIX, OFFICIAL_ENCODER_PREFIXES,
                      TARGET_PREFIX, KeyReport, is_resnet_key)

ENCODER_LAYOUTS = ('mmhvc', 'torchvision', 'crw', 'vfs', 'dul', 'sfc', 'moco',
                   'dino', 'dinov2')
DDP_PREFIX = 'module.'

_VIT_KEY = re.compile(
    r'^(cls_token|pos_embed|register_tokens'
    r'|patch_embed\.proj\.(weight|bias)|norm\.(weight|bias)'
    r'|blocks\.\d+\.(norm[12]\.(weight|bias)|attn\.(qkv|proj)\.(weight|bias)'
    r'|ls[12]\.gamma|mlp\.fc[12]\.(weight|bias)))$')
_MMCV_CONV = re.compile(
    r'^(conv1|layer[1-4]\.\d+\.(conv[1-3]|downsample))\.(conv|bn)\.(\w+)$')
_PADDED_CONV = re.compile(r'(conv[12])\.1\.weight$')
_CHUNKED_BLOCK = re.compile(r'^blocks\.\d+\.(\d+)\.')
_SWIGLU = re.compile(r'\.mlp\.w(12|3)\.')


def is_vit_key(key: str) -> bool:
    """Whether ``key`` names a parameter of a DINO / DINOv2 / timm layout
    Vision Transformer encoder (no classifier ``head``, no ``mask_token``)."""
    return _VIT_KEY.match(key) is not None


def _resnet_name(name: str) -> Optional[str]:
    """torchvision ResNet names are kept as they are."""
    return name if is_resnet_key(name) else None


def _crw_name(name: str) -> Optional[str]:
    """CRW: torchvision names, convolutions possibly behind a padding."""
    return _resnet_name(_PADDED_CONV.sub(r'\1.weight', name))


def _vfs_name(name: str) -> Optional[str]:
    """mmcv ``ConvModule`` ResNet names -> torchvision names."""
    match = _MMCV_CONV.match(name)
    if match is None:
        return None
    module, kind, tail = match.group(1), match.group(3), match.group(4)
    if module == 'conv1':
        module = 'conv1' if kind == 'conv' else 'bn1'
    elif module.endswith('downsample'):
        module += '.0' if kind == 'conv' else '.1'
    elif kind == 'bn':
        module = f'{module[:-len("conv1")]}bn{module[-1]}'
    return _resnet_name(f'{module}.{tail}')


def _dino_name(name: str) -> Optional[str]:
    """DINO: a ViT or a torchvision ResNet, names kept."""
    return name if is_vit_key(name) or is_resnet_key(name) else None


def _dinov2_name(name: str) -> Optional[str]:
    """DINOv2: unchunk blocks and rename timm's register tokens."""
    name = _CHUNKED_BLOCK.sub(r'blocks.\1.', name)
    if name == 'reg_token':
        name = 'register_tokens'
    return name if is_vit_key(name) else None


def _drop(*patterns: str) -> Pattern:
    """One pattern matching keys that start with any of ``patterns``."""
    return re.compile('|'.join(f'(^{p})' for p in patterns))


@dataclass(frozen=True)
class _Layout:
    """How one method stores its encoder.

    Attributes:
        containers: Checkpoint entries that hold the state dict, tried in
            order (the standard ones of :func:`find_state_dict` follow).
        prefixes: Prefixes of the encoder keys (after ``module.``), tried in
            order; the first under which some key maps is used.
        rename: Encoder name without prefix -> target name, or None.
        drop: Keys (after ``module.``) of known non-encoder parts.
    """

    containers: Tuple[str, ...]
    prefixes: Tuple[str, ...]
    rename: Callable[[str], Optional[str]]
    drop: Pattern


# mmhvc models, then the official HVC prefixes (``module.`` is stripped).
_MMHVC_PREFIXES = (BACKBONE_PREFIX, ) + tuple(
    p for p in OFFICIAL_ENCODER_PREFIXES if not p.startswith(DDP_PREFIX))

_LAYOUTS: Dict[str, _Layout] = {
    'mmhvc':
    _Layout(('state_dict', 'model'), _MMHVC_PREFIXES, _resnet_name,
            _drop(re.escape(TARGET_PREFIX), r'neck\.', r'head\.',
                  r'extra_backbone\.', r'data_preprocessor\.',
                  r'target_encoder\.', r'online_space_projector\.',
                  r'target_space_projector\.', r'space_predictor\.', r'flow\.',
                  r'fc\.', r'online_encoder\.fc\.')),
    'torchvision':
    _Layout(('state_dict', 'model'), ('', ), _resnet_name, _drop(r'fc\.')),
    'crw':
    _Layout(('model', ), ('encoder.model.', ), _crw_name,
            _drop(r'selfsim_fc\.', r'encoder\.model\.fc\.')),
    'vfs':
    _Layout(('state_dict', ), ('backbone.', ), _vfs_name,
            _drop(r'img_head\.', r'cls_head\.')),
    'dul':
    _Layout(('model', ), ('fast_net.backbone.', ), _resnet_name,
            _drop(r'fast_net\.emb_q\.', r'fast_net\.backbone\.fc\.')),
    'sfc':
    _Layout(
        ('model', ), ('online_encoder.', ), _resnet_name,
        _drop(r'target_encoder\.', r'online_projector\.',
              r'target_projector\.', r'predictor\.', r'online_encoder\.fc\.')),
    'moco':
    _Layout(('state_dict', ), ('encoder_q.', ), _resnet_name,
            _drop(r'encoder_q\.fc\.', r'encoder_k\.', r'queue$',
                  r'queue_ptr$')),
    'dino':
    _Layout(('teacher', ), ('backbone.', ''), _dino_name,
            _drop(r'head\.', r'fc\.', r'backbone\.fc\.')),
    'dinov2':
    _Layout(('teacher', ), ('backbone.', ''), _dinov2_name,
            _drop(r'mask_token$', r'backbone\.mask_token$', r'dino_head\.',
                  r'ibot_head\.', r'head\.')),
}


def _check_layout(layout: str) -> _Layout:
    """The rules of ``layout``; a ValueError names the known layouts."""
    if layout not in _LAYOUTS:
        raise ValueError(f'unknown encoder layout {layout!r}; expected one '
                         f'of {list(ENCODER_LAYOUTS)}')
    return _LAYOUTS[layout]


def _strip_ddp(key: str) -> str:
    """``key`` without a leading ``module.``."""
    return key[len(DDP_PREFIX):] if key.startswith(DDP_PREFIX) else key


def encoder_state_dict(checkpoint: Any,
                       layout: str,
                       source: str = 'checkpoint') -> Dict[str, Any]:
    """The state dict that holds the encoder in a loaded checkpoint.

    The first entry of the layout's containers that is a dict (``teacher``
    for DINO and DINOv2 full checkpoints, ``model`` for CRW, DUL and SFC,
    ``state_dict`` for VFS and MoCo), else what :func:`find_state_dict`
    finds: the checkpoint itself when it is a dict of tensors, or its
    ``state_dict`` / ``model`` entry.

    Args:
        checkpoint: A loaded checkpoint, or the state dict itself.
        layout: One of :data:`ENCODER_LAYOUTS`.
        source: Name of the checkpoint for error messages.
    """
    rules = _check_layout(layout)
    if isinstance(checkpoint, Mapping):
        for container in rules.containers:
            if isinstance(checkpoint.get(container), Mapping):
                return dict(checkpoint[container])
    return find_state_dict(checkpoint, source)[0]


def detect_encoder_layout(checkpoint: Any) -> Optional[str]:
    """Best-effort guess of the layout of a checkpoint from its key names.

    Args:
        checkpoint: A loaded checkpoint or a state dict.

    Returns:
        One of :data:`ENCODER_LAYOUTS`, or None when nothing matches. Bare
        torchvision ResNet keys give ``'torchvision'`` (an mmhvc backbone
        file and DINO's ResNet-50 file have the same keys); a ``teacher``
        entry gives ``'dino'`` or ``'dinov2'``.
    """
    if not isinstance(checkpoint, Mapping):
        return None
    container = next((c for c in ('teacher', 'state_dict', 'model')
                      if isinstance(checkpoint.get(c), Mapping)), None)
    state_dict = checkpoint if container is None else checkpoint[container]
    keys = [_strip_ddp(str(k)) for k in state_dict]

    def has(pattern: str) -> bool:
        return any(re.search(pattern, k) for k in keys)

    checks = (
        ('dinov2', r'^(backbone\.)?(mask_token|register_tokens|reg_token)$'
         r'|^(dino|ibot)_head\.|^(backbone\.)?blocks\.\d+\.ls1\.gamma$'),
        ('dino', r'^(backbone\.)?(cls_token|blocks\.\d+\.attn\.qkv\.)'),
        ('vfs', r'^backbone\.conv1\.conv\.weight$'),
        ('sfc', r'^online_projector\.'),
        ('mmhvc', r'^(backbone|target_net|online_encoder)\.'),
        ('dul', r'^fast_net\.backbone\.'),
        ('crw', r'^encoder\.model\.'),
        ('moco', r'^encoder_q\.'),
    )
    if container == 'teacher':
        return 'dinov2' if has(checks[0][1]) else 'dino'
    for layout, pattern in checks:
        if has(pattern):
            return layout
    if any(is_resnet_key(k) for k in keys):
        return 'torchvision'
    return None


def _hint(checkpoint: Any, layout: str) -> str:
    """A sentence naming the layout the keys look like, if not ``layout``."""
    guess = detect_encoder_layout(checkpoint)
    if guess is None or guess == layout:
        return ''
    return f' This looks like a {guess!r} checkpoint; set layout={guess!r}.'


def _add_class_position(pos_embed: torch.Tensor) -> torch.Tensor:
    """timm register models keep no class position: put a zero one first."""
    return torch.cat([pos_embed.new_zeros(pos_embed[:, :1].shape), pos_embed],
                     dim=1)


def convert_encoder(
        checkpoint: Mapping[str, Any],
        layout: str,
        source: str = 'checkpoint') -> Tuple[Dict[str, Any], KeyReport]:
    """Public self-supervised weights -> mmhvc encoder state dict.

    Args:
        checkpoint: The loaded checkpoint, or the state dict inside it (what
            :func:`find_state_dict` returns); see :func:`encoder_state_dict`.
        layout: One of :data:`ENCODER_LAYOUTS` (see the module docstring).
        source: Name of the checkpoint for error messages.

    Returns:
        ``(encoder, report)``: the encoder with torchvision ResNet or
        DINO-style ViT names, and what was done with every source key.

    Raises:
        ValueError: ``layout`` is not a known layout.
        CheckpointConversionError: No key of the layout's encoder is found,
            some keys neither map to the encoder nor belong to a known
            non-encoder part of the method, or two keys map to one name.
    """
    rules = _check_layout(layout)
    state_dict = encoder_state_dict(checkpoint, layout, source)
    names = {key: _strip_ddp(key) for key in state_dict}
    prefix = next((p for p in rules.prefixes if any(
        name.startswith(p) and rules.rename(name[len(p):]) is not None
        for name in names.values())), None)
    if prefix is None:
        raise CheckpointConversionError(
            f'{source}: no encoder key of the {layout!r} layout found '
            f'(prefixes {list(rules.prefixes)}); first keys: '
            f'{list(state_dict)[:10]}.{_hint(checkpoint, layout)}')
    output: Dict[str, Any] = {}
    report = KeyReport()
    unknown: List[str] = []
    duplicates: List[str] = []
    for key, value in state_dict.items():
        name = names[key]
        target = rules.rename(
            name[len(prefix):]) if name.startswith(prefix) else None
        if target is None:
            if rules.drop.match(name) is None:
                unknown.append(key)
            report.add(key, None)
        elif target in output:
            duplicates.append(target)
        else:
            output[target] = value
            report.add(key, target)
    if unknown:
        swiglu = ' The SwiGLU feed-forward (ViT-g/14) is not supported.' \
            if any(_SWIGLU.search(k) for k in unknown) else ''
        raise CheckpointConversionError(
            f'{source}: {len(unknown)} keys do not map to the encoder of the '
            f'{layout!r} layout and are no known part of its model: '
            f'{unknown[:10]}.{swiglu}{_hint(checkpoint, layout)}')
    if duplicates:
        raise CheckpointConversionError(
            f'{source}: several keys map to {duplicates[:10]} in the '
            f'{layout!r} layout.')
    if 'pos_embed' in output and layout == 'dinov2' and any(
            names[k][len(prefix):] == 'reg_token' for k in state_dict):
        output['pos_embed'] = _add_class_position(output['pos_embed'])
    return output, report
