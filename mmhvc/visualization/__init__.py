from .correspondence import (affinity_heatmaps, best_matches, cells_to_pixels,
                             correspondence_heatmap, draw_affinity_heatmaps,
                             draw_crop_pair, heatmap_overlay, pixels_to_cells,
                             query_heatmaps, select_positive_pairs)
from .curves import plot_scalar_curves
from .features import FeaturePCA, fit_feature_pca, pca_to_rgb
from .flow import (draw_flow_arrows, flow_color_wheel, flow_to_rgb,
                   upsample_cells)
from .layout import add_title, grid, hstack, resize_to_height, vstack
from .overlay import overlay_masks

__all__ = [
    'FeaturePCA', 'add_title', 'affinity_heatmaps', 'best_matches',
    'cells_to_pixels', 'correspondence_heatmap', 'draw_affinity_heatmaps',
    'draw_crop_pair', 'draw_flow_arrows', 'fit_feature_pca',
    'flow_color_wheel', 'flow_to_rgb', 'grid', 'heatmap_overlay', 'hstack',
    'overlay_masks', 'pca_to_rgb', 'pixels_to_cells', 'plot_scalar_curves',
    'query_heatmaps', 'resize_to_height', 'select_positive_pairs',
    'upsample_cells', 'vstack'
]
