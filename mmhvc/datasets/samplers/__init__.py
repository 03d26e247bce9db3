from .video_frame_sampler import VideoFrameSampler

__all__ = ['VideoFrameSampler']
