# JHMDB pose with CRW's pretrained.pth under CRW's protocol on 320 x 320
# frames (CRW's paper: PCK@0.1 59.3, PCK@0.2 84.9); joints as Gaussians of
# sigma 0.5 cells, read back from each channel's 3 largest cells.
_base_ = [
    '../_base_/models/propagation_crw_r18.py',
    '../_base_/protocols/crw.py',
    '../_base_/datasets/jhmdb_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(
    **_base_.protocol,
    codec=dict(type='KeypointCodec', sigma=0.5, decode_topk=3))
