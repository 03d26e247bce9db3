# YouTube-VOS 2018 valid with the feature merge of the paper's number
# (71.9 overall, from the evaluation server).
_base_ = [
    '../_base_/models/propagation_r18_moco_merge.py',
    '../_base_/datasets/ytvos2018_val.py',
    '../_base_/propagation_runtime.py',
]
