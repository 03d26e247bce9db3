from .context_memory import ContextMemory
from .label_propagator import LabelPropagator
from .vos_model import LabelPropagationSegmentor, load_encoder_weights

__all__ = [
    'ContextMemory', 'LabelPropagator', 'LabelPropagationSegmentor',
    'load_encoder_weights'
]
