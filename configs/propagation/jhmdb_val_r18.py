# JHMDB pose propagation with the HVC ResNet-18 encoder (paper: PCK@0.1 61.7,
# PCK@0.2 82.8). The 15 joints become Gaussians (sigma 0.5 feature cells) on
# the 40 x 40 grid of the 320 x 320 frames, are propagated as 15 soft-label
# channels with the first frame plus the previous 20 frames as context, top-10
# neighbours within 12 cells, temperature 0.1, and are read back as the
# value-weighted mean of each channel's 3 largest cells.
_base_ = [
    '../_base_/models/propagation_r18.py',
    '../_base_/datasets/jhmdb_val.py',
    '../_base_/propagation_runtime.py',
]

model = dict(
    codec=dict(type='KeypointCodec', sigma=0.5, decode_topk=3),
    propagator=dict(topk=10, context_size=20))
