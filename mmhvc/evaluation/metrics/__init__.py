from .davis_metric import DAVISMetric
from .youtube_vos_writer import YouTubeVOSSubmission

__all__ = ['DAVISMetric', 'YouTubeVOSSubmission']
