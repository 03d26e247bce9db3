# DAVIS-2017 val with DINO ViT-S/8 under DINO's protocol.
_base_ = [
    '../_base_/models/propagation_dino_vits8.py',
    '../_base_/protocols/dino.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
