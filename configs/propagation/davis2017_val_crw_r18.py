# DAVIS-2017 val with CRW's pretrained.pth under CRW's protocol (CRW's
# paper and README: 67.6 J&F).
_base_ = [
    '../_base_/models/propagation_crw_r18.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/davis2017_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
