"""Distributed set-up that also works with a CPU-only torch build."""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` for a multi-process run over gloo when there is no GPU.

    MMEngine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and
    wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, both of which
    fail without CUDA. When ``cfg.launcher`` is not ``'none'`` and CUDA is not
    available, this initialises the default process group with the gloo
    backend from the launcher's environment variables (``RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), so that the Runner sees
    an initialised group and skips its own initialisation, and makes the
    model wrapper a CPU ``MMDistributedDataParallel`` (``device_ids=None``).

    Args:
        cfg: The full config; ``launcher``, ``env_cfg`` and
            ``model_wrapper_cfg`` are read and updated in place.

    Returns:
        True when a gloo process group was set up here, False otherwise.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise ValueError(
            f'launcher={launcher!r} needs CUDA; without a GPU use '
            '--launcher pytorch (tools/dist_train.sh), which runs over gloo.')
    missing = [
        key for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
        if key not in os.environ
    ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch expects {missing} in the environment; start '
            'the processes with torchrun (see tools/dist_train.sh).')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if 'timeout' in kwargs:
            from datetime import timedelta
            kwargs['timeout'] = timedelta(seconds=kwargs['timeout'])
        torch_dist.init_process_group(backend='gloo', **kwargs)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper.setdefault('device_ids', None)
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    print_log(
        f'No CUDA device: rank {torch_dist.get_rank()} of '
        f'{torch_dist.get_world_size()} runs on the CPU over gloo.',
        logger='current')
    return True
