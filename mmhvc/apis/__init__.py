from .inference import init_model, propagate_mask, read_first_mask, read_video

__all__ = ['init_model', 'propagate_mask', 'read_first_mask', 'read_video']
