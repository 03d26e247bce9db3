# HVC's propagation protocol (the paper and its reference inference code):
# for each query cell, the context cells within a strict Euclidean radius of
# 12 feature cells (the first frame compared everywhere), the top 15 over
# the whole context, softmax temperature 0.1; the context is the first frame
# plus the previous 50 frames, padded with copies of the first frame. Labels
# move between frame and grid bilinearly (align_corners=True).
model = dict(
    propagator=dict(
        type='LabelPropagator',
        radius=12,
        topk=15,
        temperature=0.1,
        context_size=50,
        dedup_context=False,
        backend='auto'))
