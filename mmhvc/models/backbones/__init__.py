from .hvc_resnet import HVCResNet
from .resnet_weights import check_backbone_state_dict, infer_resnet_arch

__all__ = ['HVCResNet', 'check_backbone_state_dict', 'infer_resnet_arch']
