_base_ = [
    '../_base_/models/propagation_r18.py',
    '../_base_/datasets/vost_val.py',
    '../_base_/propagation_runtime.py',
]
