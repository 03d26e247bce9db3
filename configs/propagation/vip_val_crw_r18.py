# VIP parts with CRW's pretrained.pth under CRW's protocol, first-frame
# parts on 560 x 560 frames (CRW's paper: 38.6 mIoU).
_base_ = [
    '../_base_/models/propagation_crw_r18.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/vip_val_crw_protocol.py',
    '../_base_/propagation_runtime.py',
]

model = dict(**_base_.protocol)
