from .samplers import *  # noqa: F401,F403
from .static_image import IMG_EXTENSIONS, StaticImageDataset
from .transforms import *  # noqa: F401,F403
from .video_frame import VideoFrameDataset

__all__ = ['IMG_EXTENSIONS', 'StaticImageDataset', 'VideoFrameDataset']
