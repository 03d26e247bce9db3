"""Loading a checkpoint into a model, refusing anything that does not fit.

MMEngine's ``Runner.load_checkpoint`` (``load_from``) loads non-strictly:
parameters whose shape differs and keys that are missing are only logged,
and the model keeps its random initialisation for them. For evaluation
that silently gives numbers of an untrained network, so the test tool
loads through :func:`load_model_weights` instead.
"""
import re

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

# Buffers that old checkpoints (e.g. torchvision's first ResNet files) lack
# and that evaluation does not use.
_OPTIONAL_SUFFIXES = ('num_batches_tracked', )


def load_model_weights(model: nn.Module, filename: str) -> None:
    """Load the state dict of ``filename`` into ``model``, all of it.

    The state dict is the checkpoint itself or its ``state_dict`` /
    ``model`` entry; a ``module.`` prefix (DDP) is removed. The model's own
    ``_load_from_state_dict`` may adapt the keys first (the propagation
    model takes backbone-only files and drops training-only entries).

    Args:
        model: The model, or a model wrapper (its ``module`` is loaded).
        filename: A local checkpoint file.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        RuntimeError: A tensor of the checkpoint has another shape than the
            model's (a different architecture); the message lists them.
        KeyError: Model parameters are missing from the checkpoint, or the
            checkpoint has entries the model does not know; the message
            lists them.
    """
    from mmhvc.models.utils.checkpoint_convert import (find_state_dict,
                                                       load_checkpoint_file)
    if is_model_wrapper(model):
        model = model.module
    state_dict, _ = find_state_dict(load_checkpoint_file(filename), filename)
    state_dict = {
        re.sub(r'^module\.', '', key): value
        for key, value in state_dict.items()
    }
    name = type(model).__name__
    try:
        missing, unexpected = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as e:
        raise RuntimeError(
            f'The checkpoint {filename} does not fit the model {name} (a '
            f'different architecture or depth?): {e}') from e
    except KeyError as e:
        raise KeyError(f'The checkpoint {filename} does not fit the model '
                       f'{name}: {e.args[0] if e.args else e}') from e
    missing = [k for k in missing if not k.endswith(_OPTIONAL_SUFFIXES)]
    if missing or unexpected:
        raise KeyError(
            f'The checkpoint {filename} does not fit the model {name}: '
            f'{len(missing)} missing keys {missing[:10]}, '
            f'{len(unexpected)} unexpected keys {unexpected[:10]}')
    print_log(f'Loaded the weights of {filename}', logger='current')
