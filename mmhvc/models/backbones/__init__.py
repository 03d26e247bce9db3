from .hvc_resnet import HVCResNet
from .resnet_weights import check_backbone_state_dict, infer_resnet_arch
from .vision_transformer import VisionTransformer

__all__ = [
    'HVCResNet', 'VisionTransformer', 'check_backbone_state_dict',
    'infer_resnet_arch'
]
