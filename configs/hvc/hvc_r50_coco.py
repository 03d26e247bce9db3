# HVC with a ResNet-50 encoder (2048 channels out of layer4), otherwise the
# paper's COCO setting.
_base_ = './hvc_r18_coco.py'

model = dict(
    backbone=dict(depth=50),
    neck=dict(in_channels=2048))
