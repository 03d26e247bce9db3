# DAVIS-2017 test-dev with the feature merge of the paper's number (61.7
# J&F, from the evaluation server).
_base_ = [
    '../_base_/models/propagation_r18_moco_merge.py',
    '../_base_/datasets/davis2017_testdev.py',
    '../_base_/propagation_runtime.py',
]
