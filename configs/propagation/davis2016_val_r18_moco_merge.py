# DAVIS-2016 val with the feature merge of the paper's number (80.1 J&F).
_base_ = [
    '../_base_/models/propagation_r18_moco_merge.py',
    '../_base_/datasets/davis2016_val.py',
    '../_base_/propagation_runtime.py',
]
