from .davis_measures import (boundary_map, boundary_measure,
                             boundary_tolerance, db_statistics, disk_kernel,
                             evaluate_semisupervised, frame_f_measure,
                             merge_objects, region_similarity)
from .part_miou import intersect_and_union, iou_from_counts
from .pck import (normalized_distances, pck_counts, pck_from_counts,
                  reference_sizes)

__all__ = [
    'boundary_map', 'boundary_measure', 'boundary_tolerance', 'db_statistics',
    'disk_kernel', 'evaluate_semisupervised', 'frame_f_measure',
    'merge_objects', 'region_similarity', 'intersect_and_union',
    'iou_from_counts', 'normalized_distances', 'pck_counts', 'pck_from_counts',
    'reference_sizes'
]
