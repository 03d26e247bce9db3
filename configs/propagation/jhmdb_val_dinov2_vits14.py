# JHMDB pose with DINOv2 ViT-S/14 under CRW's protocol.
_base_ = [
    '../_base_/models/propagation_dinov2_vits14.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/jhmdb_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(
    **_base_.protocol,
    codec=dict(type='KeypointCodec', sigma=0.5, decode_topk=3))
