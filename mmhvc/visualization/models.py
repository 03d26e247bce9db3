"""Build the test-time feature extractor of a propagation config."""
from typing import Optional, Union

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

# registers the test-time models (LabelPropagationSegmentor ...)
import mmhvc.models.propagation  # noqa: F401
from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules


def init_propagation_model(config: Union[str, Config],
                           checkpoint: Optional[str] = None,
                           device: Union[str, torch.device] = 'cpu',
                           cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the ``model`` of a propagation config, in eval mode.

    The weights are loaded as ``tools/test.py`` loads them: the model's own
    state-dict adaptation accepts an mmhvc training checkpoint
    (``backbone.*`` keys, the rest is ignored) or a backbone-only file.
    Without a checkpoint the model keeps its initialisation
    (``init_weights``; seed torch's generator first for a reproducible
    one).

    Args:
        config: Path of a propagation config (e.g.
            ``configs/propagation/demo_davis_r18.py``) or a loaded Config.
        checkpoint: Weights file, or None for a randomly initialised model.
        device: Device of the returned model.
        cfg_options: Overrides merged into the config (``key.sub=value``).

    Returns:
        The model; it must provide ``extract_feat(frame)`` (``(3, H, W)``
        0-255 BGR -> ``(C, h, w)`` L2-normalised features) and a
        ``propagator`` with a ``temperature``.

    Raises:
        KeyError: The config has no ``model``.
        TypeError: The model is not a test-time propagation model.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'{cfg.filename}: the config has no "model"')
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'extract_feat') or not hasattr(
            getattr(model, 'propagator', None), 'temperature'):
        raise TypeError(
            f'{cfg.filename}: model type "{cfg.model.get("type")}" is not a '
            'propagation model with extract_feat() and a propagator; use a '
            'config from configs/propagation/')
    if checkpoint is None:
        model.init_weights()
    else:
        load_checkpoint(model, checkpoint, map_location='cpu')
    return model.to(device).eval()
