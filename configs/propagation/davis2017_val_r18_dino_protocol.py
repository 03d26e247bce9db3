# DAVIS-2017 val with the HVC ResNet-18 features under DINO's protocol, to
# compare HVC with DINO's ViTs on DINO's terms.
_base_ = [
    '../_base_/models/propagation_hvc_r18.py',
    '../_base_/protocols/dino.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
