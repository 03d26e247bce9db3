# VIP part propagation with the HVC ResNet-18 encoder (paper: 44.6 mIoU).
# Context as in the CRW part/pose protocol: the first frame plus the previous
# 20 frames, top-10 neighbours within 12 feature cells; softmax temperature
# 0.1 as for DAVIS (CRW uses its own training temperature there).
_base_ = [
    '../_base_/models/propagation_r18.py',
    '../_base_/datasets/vip_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(propagator=dict(topk=10, context_size=20))
