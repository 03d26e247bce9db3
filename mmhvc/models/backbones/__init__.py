from .hvc_resnet import HVCResNet

__all__ = ['HVCResNet']
