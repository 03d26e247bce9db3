# DAVIS-2017 val with the feature merge of the paper's best number (73.1
# J&F).
_base_ = [
    '../_base_/models/propagation_r18_moco_merge.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/propagation_runtime.py',
]
