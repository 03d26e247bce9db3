# DAVIS-2017 val with a torchvision ResNet-50 (ImageNet-supervised weights
# by default) truncated after layer3 at stride 8, under CRW's protocol.
_base_ = [
    '../_base_/models/propagation_imagenet_r50.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
