from .codecs import (BaseLabelCodec, KeypointCodec, MaskCodec,
                     heatmaps_to_keypoints, keypoints_to_heatmaps)
from .context import ContextPolicy
from .context_memory import ContextMemory
from .label_propagator import LabelPropagator
from .propagation_model import LabelPropagationSegmentor
from .topk_kernel import TopkKernel, bf16_score_error

__all__ = [
    'BaseLabelCodec', 'ContextMemory', 'ContextPolicy', 'KeypointCodec',
    'LabelPropagationSegmentor', 'LabelPropagator', 'MaskCodec', 'TopkKernel',
    'bf16_score_error', 'heatmaps_to_keypoints', 'keypoints_to_heatmaps'
]
