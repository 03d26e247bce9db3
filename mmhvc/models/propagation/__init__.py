from .context_memory import ContextMemory
from .keypoint_heatmaps import heatmaps_to_keypoints, keypoints_to_heatmaps
from .keypoint_model import KeypointPropagationModel
from .label_propagator import LabelPropagator
from .vos_model import LabelPropagationSegmentor, load_encoder_weights

__all__ = [
    'ContextMemory', 'LabelPropagator', 'LabelPropagationSegmentor',
    'load_encoder_weights', 'KeypointPropagationModel',
    'heatmaps_to_keypoints', 'keypoints_to_heatmaps'
]
