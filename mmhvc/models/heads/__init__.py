from .correspondence_head import HVCHead
from .flow_layer import HVCFlowLayer

__all__ = ['HVCFlowLayer', 'HVCHead']
