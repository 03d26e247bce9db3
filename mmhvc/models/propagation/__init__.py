from .codecs import (BaseLabelCodec, KeypointCodec, MaskCodec,
                     heatmaps_to_keypoints, keypoints_to_heatmaps)
from .context_memory import ContextMemory
from .dense import DenseBackend
from .label_propagator import LabelPropagator
from .propagation_model import LabelPropagationSegmentor
from .streaming import StreamingPropagator, StreamState
from .windowed import WindowedBackend

__all__ = [
    'BaseLabelCodec', 'ContextMemory', 'DenseBackend', 'KeypointCodec',
    'LabelPropagationSegmentor', 'LabelPropagator', 'MaskCodec',
    'StreamState', 'StreamingPropagator', 'WindowedBackend',
    'heatmaps_to_keypoints',
    'keypoints_to_heatmaps'
]
