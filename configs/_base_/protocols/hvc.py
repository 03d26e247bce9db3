# HVC's propagation protocol (the paper and its reference inference code):
# for each query cell, the context cells within a strict Euclidean radius of
# 12 feature cells (the first frame compared everywhere), the top 15 over
# the whole context, softmax temperature 0.1; the context is the first frame
# plus the previous 50 frames, padded with copies of the first frame. Labels
# move between frame and grid bilinearly (align_corners=True, the default
# of MaskCodec).
#
# A protocol is the `protocol` variable of its file; a config that inherits
# an encoder's model base and a protocol file applies it with
# `model = dict(**_base_.protocol)` (a model base and a protocol cannot both
# set `model`, MMEngine refuses keys that two bases share).
protocol = dict(
    propagator=dict(
        type='LabelPropagator',
        radius=12,
        topk=15,
        temperature=0.1,
        context_size=50,
        dedup_context=False,
        backend='auto'))
