from .functional import (boundary_map, boundary_measure, boundary_tolerance,
                         db_statistics, disk_kernel, evaluate_semisupervised,
                         frame_f_measure, region_similarity)
from .metrics import DAVISMetric, YouTubeVOSSubmission

__all__ = [
    'DAVISMetric', 'YouTubeVOSSubmission', 'boundary_map', 'boundary_measure',
    'boundary_tolerance', 'db_statistics', 'disk_kernel',
    'evaluate_semisupervised', 'frame_f_measure', 'region_similarity'
]
