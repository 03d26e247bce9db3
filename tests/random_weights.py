"""Distinct random values for a state dict, to tell weights apart."""
from typing import Dict

import torch


def randomized(state_dict: Dict[str, torch.Tensor],
               seed: int) -> Dict[str, torch.Tensor]:
    """Same keys and shapes, distinct random values per seed (integer
    buffers copied)."""
    gen = torch.Generator().manual_seed(seed)
    return {
        k: (torch.randn(v.shape, generator=gen)
            if v.is_floating_point() else v.clone())
        for k, v in state_dict.items()
    }
