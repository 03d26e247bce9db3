# VIP part propagation with the HVC ResNet-18 encoder under CRW's protocol:
# the first frame's parts on 560 x 560 frames, the first frame plus the
# previous 20 frames as context, top-10 neighbours within 12 feature cells;
# softmax temperature 0.1 as for DAVIS (CRW uses its own training
# temperature there). The paper's 44.6 mIoU comes from the HVC protocol
# (vip_val_hvc_protocol_r18_moco_merge.py), as far as the reference code
# shows.
_base_ = [
    '../_base_/models/propagation_r18.py',
    '../_base_/datasets/vip_val_crw_protocol.py',
    '../_base_/propagation_runtime.py',
]

model = dict(propagator=dict(topk=10, context_size=20))
