"""State-dict key mapping between the checkpoint layouts HVC weights come in.

The model converters in ``tools/model_converters/`` are thin command lines
around the functions here, and the propagation model adapts the checkpoints
it is given with :func:`revise_propagation_state_dict`, so the rules live in
one place.

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
- **Propagation model** (:class:`~mmhvc.models.LabelPropagationSegmentor`):
  ``backbone.*`` and, with a feature merge, ``extra_backbone.*``.
"""
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from mmengine.logging import print_log
from torch import Tensor

from .io import CheckpointConversionError, find_state_dict

BACKBONE_PREFIX = 'backbone.'
TARGET_PREFIX = 'target_net.'
OFFICIAL_ENCODER_PREFIXES = ('module.online_encoder.', 'online_encoder.',
                             'module.encoder.', 'encoder.', 'module.', '')
EXTRA_BACKBONE_PREFIX = 'extra_backbone.'
# Buffers that old checkpoints (e.g. torchvision's first ResNet files) lack
# and that evaluation does not use.
OPTIONAL_SUFFIXES = ('num_batches_tracked', )

_RESNET_KEY = re.compile(
    r'^(conv1|bn1|layer[1-4]\.\d+\.(conv[1-3]|bn[1-3]|downsample\.[01]))\.'
    r'(weight|bias|running_mean|running_var|num_batches_tracked)$')


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


def is_optional_key(key: str) -> bool:
    """Whether a model entry may be absent from a checkpoint
    (:data:`OPTIONAL_SUFFIXES`)."""
    return key.endswith(OPTIONAL_SUFFIXES)


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


def revise_propagation_state_dict(state_dict: dict,
                                  own: Mapping[str, Tensor],
                                  prefix: str = '') -> None:
    """Adapt a checkpoint to the propagation model, in place.

    A backbone-only file (bare ResNet keys, see :func:`is_resnet_key`) is
    moved under ``backbone.``; a checkpoint without ``extra_backbone.*``
    keys takes the extra encoder's entries from ``own`` (it keeps the
    weights it was built with); entries the model does not have (the EMA
    target, neck, head, layers that are not built) are dropped, and their
    number is logged.

    Args:
        state_dict: The state dict given to ``_load_from_state_dict``.
        own: The model's own entries, named with ``prefix``
            (``model.state_dict(prefix=prefix, keep_vars=True)``).
        prefix: Prefix of the model's keys in ``state_dict``.

    Raises:
        KeyError: Backbone parameters are missing from the checkpoint.
    """
    backbone = prefix + BACKBONE_PREFIX
    keys = [k for k in state_dict if k.startswith(prefix)]
    if not any(k.startswith(backbone) for k in keys):
        for key in keys:
            if is_resnet_key(key[len(prefix):]):
                state_dict[backbone + key[len(prefix):]] = \
                    state_dict.pop(key)
    missing = [
        k for k in own if k.startswith(backbone) and k not in state_dict
        and not is_optional_key(k)
    ]
    if missing:
        raise KeyError(
            f'the checkpoint has no weights for {len(missing)} backbone '
            f'parameters, e.g. {missing[:5]}; expected an mmhvc training '
            'checkpoint (backbone.* keys) or a backbone-only file')
    extra = prefix + EXTRA_BACKBONE_PREFIX
    if not any(k.startswith(extra) for k in state_dict):
        state_dict.update(
            {k: v.detach()
             for k, v in own.items() if k.startswith(extra)})
    unused = [k for k in state_dict if k.startswith(prefix) and k not in own]
    for key in unused:
        del state_dict[key]
    if unused:
        print_log(
            f'{len(unused)} checkpoint entries are not used by the '
            f'propagation model (e.g. {unused[:3]})',
            logger='current')
