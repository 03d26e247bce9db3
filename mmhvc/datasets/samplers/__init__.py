from .seeded_sampler import SeededDataset, SeededSampler, sample_seed
from .video_frame_sampler import VideoFrameSampler

__all__ = [
    'SeededDataset', 'SeededSampler', 'VideoFrameSampler', 'sample_seed'
]
