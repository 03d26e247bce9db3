# VIP parts with DINO ViT-S/16 under CRW's protocol (DINO's script covers
# DAVIS only).
_base_ = [
    '../_base_/models/propagation_dino_vits16.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/vip_val_crw_protocol.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
