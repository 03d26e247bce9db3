from .atomic_checkpoint_hook import AtomicCheckpointHook
from .correspondence_vis_hook import CorrespondenceVisualizationHook
from .non_finite_guard_hook import NonFiniteGuardHook
from .result_dir_hook import ResultDirHook
from .vos_visualization_hook import VOSVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'CorrespondenceVisualizationHook',
    'NonFiniteGuardHook', 'ResultDirHook', 'VOSVisualizationHook'
]
