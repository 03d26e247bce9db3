# VOST val with the feature merge of the paper's tables (26.3 J-Mean, 15.3
# J_last-Mean).
_base_ = [
    '../_base_/models/propagation_r18_moco_merge.py',
    '../_base_/datasets/vost_val.py',
    '../_base_/propagation_runtime.py',
]
