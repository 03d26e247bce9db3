# DINO ViT-S/8: as propagation_dino_vits16.py on an 8-pixel grid. Weights:
# dino_deitsmall8_pretrain.pth.
_base_ = './propagation_dino_vits16.py'

model = dict(backbone=dict(patch_size=8))
