from .davis_measures import (boundary_map, boundary_measure,
                             boundary_tolerance, db_statistics, disk_kernel,
                             evaluate_semisupervised, frame_f_measure,
                             region_similarity)

__all__ = [
    'boundary_map', 'boundary_measure', 'boundary_tolerance', 'db_statistics',
    'disk_kernel', 'evaluate_semisupervised', 'frame_f_measure',
    'region_similarity'
]
