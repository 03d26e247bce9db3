# A torchvision ResNet-50 (e.g. the ImageNet-supervised baseline, or any
# ResNet-50 in torchvision's key layout) truncated after layer3, layer3 at
# stride 1: 1024 channels at output stride 8, as CRW's test script builds
# its ImageNet baselines. Weights: torchvision's resnet50 file
# (checkpoint_layout='torchvision'; fc and layer4 are not used).
_base_ = './propagation_hvc_r18.py'

model = dict(backbone=dict(depth=50), checkpoint_layout='torchvision')
