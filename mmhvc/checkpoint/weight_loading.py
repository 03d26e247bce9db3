"""Loading a checkpoint into a model, refusing anything that does not fit.

MMEngine's ``Runner.load_checkpoint`` (``load_from``) loads non-strictly:
parameters whose shape differs and keys that are missing are only logged,
and the model keeps its random initialisation for them. For evaluation
that silently gives numbers of an untrained network, so the test tool,
:func:`mmhvc.apis.init_model` and the second (merge) encoder of the
propagation model load through the functions here, which share one check
(:func:`load_state_dict_checked`).
"""
import re
from typing import Dict, List, Tuple

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import Tensor, nn

from .encoder_layouts import convert_encoder, encoder_state_dict
from .io import find_state_dict, load_checkpoint_file
from .layouts import BACKBONE_PREFIX, is_optional_key, is_resnet_key


def load_state_dict_checked(module: nn.Module, state_dict: Dict[str, Tensor],
                            source: str) -> Tuple[List[str], List[str]]:
    """Load ``state_dict`` into ``module`` and report what did not fit.

    The module's own ``_load_from_state_dict`` may adapt the keys first
    (the propagation model takes backbone-only files).

    Args:
        module: The module to load.
        state_dict: Its weights.
        source: Name of the checkpoint (its path) for error messages.

    Returns:
        ``(missing, unexpected)``: the module's entries absent from
        ``state_dict`` (optional buffers, see
        :func:`~mmhvc.checkpoint.layouts.is_optional_key`, left out) and the
        entries of ``state_dict`` that the module does not have.

    Raises:
        RuntimeError: A tensor has another shape than the module's (a
            different architecture); the message lists them.
        KeyError: The module's key revision refused the checkpoint.
    """
    name = type(module).__name__
    try:
        missing, unexpected = module.load_state_dict(state_dict, strict=False)
    except RuntimeError as e:
        raise RuntimeError(
            f'The checkpoint {source} does not fit the model {name} (a '
            f'different architecture or depth?): {e}') from e
    except KeyError as e:
        raise KeyError(f'The checkpoint {source} does not fit the model '
                       f'{name}: {e.args[0] if e.args else e}') from e
    return [k for k in missing if not is_optional_key(k)], list(unexpected)


def _holds_backbone(model: nn.Module, state_dict: Dict[str, Tensor]) -> bool:
    """Whether ``state_dict`` has every ``backbone.*`` entry of ``model``
    (a checkpoint of this model rather than a method's release)."""
    own = [
        k for k in model.state_dict()
        if k.startswith(BACKBONE_PREFIX) and not is_optional_key(k)
    ]
    return bool(own) and all(k in state_dict for k in own)


def load_model_weights(model: nn.Module, filename: str) -> None:
    """Load the state dict of ``filename`` into ``model``, all of it.

    The state dict is the checkpoint itself or its ``state_dict`` /
    ``model`` entry; a ``module.`` prefix (DDP) is removed. A model with a
    ``checkpoint_layout`` other than ``'mmhvc'`` (the propagation model
    evaluating another method's encoder) reads its backbone from a release
    in that layout (:func:`~mmhvc.checkpoint.convert_encoder`, strict; the
    layout also names the checkpoint entry that holds the weights), unless
    the file already holds every ``backbone.*`` entry of the model.

    Args:
        model: The model, or a model wrapper (its ``module`` is loaded).
        filename: A local checkpoint file.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        RuntimeError: A tensor of the checkpoint has another shape than the
            model's (a different architecture or depth); the message lists
            them.
        KeyError: Model parameters are missing from the checkpoint, or the
            checkpoint has entries the model does not know; the message
            lists them.
    """
    if is_model_wrapper(model):
        model = model.module
    layout = getattr(model, 'checkpoint_layout', 'mmhvc')
    state_dict = encoder_state_dict(
        load_checkpoint_file(filename), layout, filename)
    state_dict = {
        re.sub(r'^module\.', '', key): value
        for key, value in state_dict.items()
    }
    if layout != 'mmhvc' and not _holds_backbone(model, state_dict):
        encoder, report = convert_encoder(state_dict, layout, filename)
        print_log(
            f'{filename}: the encoder read in the {layout!r} layout: '
            f'{report.format()}',
            logger='current')
        state_dict = {BACKBONE_PREFIX + k: v for k, v in encoder.items()}
    missing, unexpected = load_state_dict_checked(model, state_dict, filename)
    if missing or unexpected:
        raise KeyError(
            f'The checkpoint {filename} does not fit the model '
            f'{type(model).__name__}: {len(missing)} missing keys '
            f'{missing[:10]}, {len(unexpected)} unexpected keys '
            f'{unexpected[:10]}')
    print_log(f'Loaded the weights of {filename}', logger='current')


def load_encoder_weights(module: nn.Module,
                         filename: str,
                         prefix: str = '') -> None:
    """Load ResNet encoder weights stored under ``prefix`` into ``module``.

    Only the keys under ``prefix`` that name ResNet parameters (see
    :func:`~mmhvc.checkpoint.layouts.is_resnet_key`) are taken, without the
    prefix; stages the checkpoint has and ``module`` does not build are
    ignored.

    Args:
        module: The encoder.
        filename: A checkpoint whose state dict (itself, or under
            ``state_dict``/``model``) holds the encoder keys.
        prefix: Prefix of the encoder keys in the checkpoint, e.g.
            ``'module.encoder_q.'`` for MoCo; ``''`` for a backbone file.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        RuntimeError: A tensor has another shape than the encoder's.
        KeyError: The checkpoint lacks some of the encoder's parameters.
    """
    state_dict, _ = find_state_dict(load_checkpoint_file(filename), filename)
    weights = {
        key[len(prefix):]: value
        for key, value in state_dict.items()
        if key.startswith(prefix) and is_resnet_key(key[len(prefix):])
    }
    missing, _ = load_state_dict_checked(module, weights, filename)
    if missing:
        raise KeyError(f'{filename}: no weights under the prefix "{prefix}" '
                       f'for {len(missing)} encoder parameters, e.g. '
                       f'{missing[:5]}')
