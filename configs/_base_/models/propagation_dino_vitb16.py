# DINO ViT-B/16: 768 channels on a 16-pixel grid. Weights:
# dino_vitbase16_pretrain.pth.
_base_ = './propagation_dino_vits16.py'

model = dict(backbone=dict(arch='base'))
