from .non_finite_guard_hook import NonFiniteGuardHook
from .result_dir_hook import ResultDirHook
from .vos_visualization_hook import VOSVisualizationHook, overlay_masks

__all__ = [
    'NonFiniteGuardHook', 'ResultDirHook', 'VOSVisualizationHook',
    'overlay_masks'
]
