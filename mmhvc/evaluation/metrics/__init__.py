from .davis_metric import DAVISMetric
from .pck_metric import PCKMetric
from .vip_metric import VIPMetric
from .youtube_vos_writer import YouTubeVOSSubmission

__all__ = ['DAVISMetric', 'PCKMetric', 'VIPMetric', 'YouTubeVOSSubmission']
