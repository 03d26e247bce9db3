from .correspondence import (affinity_heatmaps, best_matches, cells_to_pixels,
                             draw_affinity_heatmaps, draw_crop_pair,
                             heatmap_overlay, pixels_to_cells,
                             select_positive_pairs)
from .curves import (TrainTimeStats, load_scalar_log, plot_scalar_curves,
                     train_time_stats)
from .features import FeaturePCA, fit_feature_pca, pca_to_rgb
from .flow import (draw_flow_arrows, flow_color_wheel, flow_to_rgb,
                   upsample_cells)
from .layout import add_title, grid, hstack, resize_to_height, vstack
from .media import (count_frames, iter_frames, read_image, write_image,
                    write_video)

__all__ = [
    'FeaturePCA', 'TrainTimeStats', 'add_title', 'affinity_heatmaps',
    'best_matches', 'cells_to_pixels', 'count_frames',
    'draw_affinity_heatmaps', 'draw_crop_pair', 'draw_flow_arrows',
    'fit_feature_pca', 'flow_color_wheel', 'flow_to_rgb', 'grid',
    'heatmap_overlay', 'hstack', 'iter_frames',
    'load_scalar_log', 'pca_to_rgb', 'pixels_to_cells', 'plot_scalar_curves',
    'read_image', 'resize_to_height', 'select_positive_pairs',
    'train_time_stats', 'upsample_cells', 'vstack', 'write_image',
    'write_video'
]
