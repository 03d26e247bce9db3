from .seeded_sampler import SeededSampler, sample_seed
from .video_frame_sampler import VideoFrameSampler

__all__ = ['SeededSampler', 'VideoFrameSampler', 'sample_seed']
