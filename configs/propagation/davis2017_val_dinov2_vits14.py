# DAVIS-2017 val with DINOv2 ViT-S/14 under DINO's protocol (DINOv2 publishes
# no video segmentation script of its own).
_base_ = [
    '../_base_/models/propagation_dinov2_vits14.py',
    '../_base_/protocols/dino.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
