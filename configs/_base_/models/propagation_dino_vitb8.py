# DINO ViT-B/8: 768 channels on an 8-pixel grid. Weights:
# dino_vitbase8_pretrain.pth.
_base_ = './propagation_dino_vits16.py'

model = dict(backbone=dict(arch='base', patch_size=8))
