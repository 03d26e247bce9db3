# DINOv2 ViT-B/14: 768 channels on a 14-pixel grid. Weights:
# dinov2_vitb14_pretrain.pth.
_base_ = './propagation_dinov2_vits14.py'

model = dict(backbone=dict(arch='base'))
