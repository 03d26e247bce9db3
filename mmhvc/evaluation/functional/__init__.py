from .davis_measures import (boundary_map, boundary_measure,
                             boundary_tolerance, db_statistics, disk_kernel,
                             evaluate_semisupervised, frame_f_measure,
                             merge_objects, region_similarity)
from .part_miou import intersect_and_union, iou_from_counts
from .pck import (normalized_distances, pck_counts, pck_from_counts,
                  reference_sizes)
from .vost_measures import (last_quarter_start, vost_frame_jaccard,
                            vost_num_objects, vost_object_statistics,
                            vost_summary, vost_tables)

__all__ = [
    'boundary_map', 'boundary_measure', 'boundary_tolerance', 'db_statistics',
    'disk_kernel', 'evaluate_semisupervised', 'frame_f_measure',
    'merge_objects', 'region_similarity', 'intersect_and_union',
    'iou_from_counts', 'normalized_distances', 'pck_counts', 'pck_from_counts',
    'reference_sizes', 'last_quarter_start', 'vost_frame_jaccard',
    'vost_num_objects', 'vost_object_statistics', 'vost_summary',
    'vost_tables'
]
