# JHMDB pose with DINO ViT-S/16 under CRW's protocol (DINO's script covers
# DAVIS only).
_base_ = [
    '../_base_/models/propagation_dino_vits16.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/jhmdb_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(
    **_base_.protocol,
    codec=dict(type='KeypointCodec', sigma=0.5, decode_topk=3))
