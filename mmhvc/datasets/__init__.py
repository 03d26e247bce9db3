from .base_video_dataset import BaseVideoDataset
from .davis import DAVISDataset
from .jhmdb import JHMDB_JOINTS, JHMDBDataset
from .palette import davis_palette, read_indexed_png, write_indexed_png
from .samplers import *  # noqa: F401,F403
from .seeded_dataset import SeededDataset
from .static_image import IMG_EXTENSIONS, StaticImageDataset
from .transforms import *  # noqa: F401,F403
from .video_frame import VideoFrameDataset
from .vip import VIP_CLASSES, VIPDataset
from .vost import VOSTDataset
from .youtube_vos import YouTubeVOSDataset

__all__ = [
    'IMG_EXTENSIONS', 'StaticImageDataset', 'VideoFrameDataset',
    'BaseVideoDataset', 'DAVISDataset', 'YouTubeVOSDataset', 'davis_palette', 'read_indexed_png',
    'write_indexed_png', 'JHMDB_JOINTS', 'JHMDBDataset', 'VIP_CLASSES',
    'VIPDataset', 'SeededDataset', 'VOSTDataset'
]
