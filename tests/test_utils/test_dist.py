import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmhvc.utils import setup_cpu_distributed


def test_single_process_launcher_is_untouched():
    cfg = Config(dict(launcher='none'))
    assert setup_cpu_distributed(cfg) is False
    assert 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only path')
def test_pytorch_launcher_without_env_names_missing_keys(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='MASTER_ADDR'):
        setup_cpu_distributed(Config(dict(launcher='pytorch')))


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only path')
def test_slurm_launcher_without_gpu_is_refused():
    with pytest.raises(ValueError, match='needs CUDA'):
        setup_cpu_distributed(Config(dict(launcher='slurm')))


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only path')
def test_pytorch_launcher_sets_up_gloo(monkeypatch):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29531')
    cfg = Config(dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(
        backend='nccl', timeout=60))))
    try:
        assert setup_cpu_distributed(cfg) is True
        assert torch_dist.is_initialized()
        assert torch_dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
        assert cfg.model_wrapper_cfg.device_ids is None
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
