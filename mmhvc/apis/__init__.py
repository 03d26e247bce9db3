from .inference import (init_model, propagate_mask, propagate_masks,
                        read_first_mask, read_video)
from .mask_propagation import DIRECTIONS, SETTINGS, MaskPropagation

__all__ = [
    'DIRECTIONS', 'MaskPropagation', 'SETTINGS', 'init_model',
    'propagate_mask', 'propagate_masks', 'read_first_mask', 'read_video'
]
