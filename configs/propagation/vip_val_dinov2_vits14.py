# VIP parts with DINOv2 ViT-S/14 under CRW's protocol.
_base_ = [
    '../_base_/models/propagation_dinov2_vits14.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/vip_val_crw_protocol.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
