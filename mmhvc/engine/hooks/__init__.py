from .result_dir_hook import ResultDirHook
from .vos_visualization_hook import VOSVisualizationHook, overlay_masks

__all__ = ['ResultDirHook', 'VOSVisualizationHook', 'overlay_masks']
