from .base_video_metric import BaseVideoMetric
from .davis_metric import DAVISMetric
from .pck_metric import PCKMetric
from .vip_metric import VIPMetric
from .vost_metric import VOSTMetric
from .youtube_vos_writer import YouTubeVOSSubmission

__all__ = [
    'BaseVideoMetric', 'DAVISMetric', 'PCKMetric', 'VIPMetric',
    'YouTubeVOSSubmission', 'VOSTMetric'
]
