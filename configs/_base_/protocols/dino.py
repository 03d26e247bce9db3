# DINO's propagation protocol (eval_video_segmentation.py of
# facebookresearch/dino): the first frame plus the last 7 propagated frames,
# each frame once; every context frame, the first included, restricted to
# the square of 12 cells around the query (|dy| <= 12 and |dx| <= 12,
# size_mask_neighborhood); the top 5 over the whole context, softmax
# temperature 0.1. The first mask reaches the grid by nearest-neighbour
# sampling; a frame's labels are upsampled bilinearly to the encoded size,
# each object's channel rescaled to [0, 1], and the argmax resized to the
# frame by nearest neighbour (MaskCodec resampling='dino'). See ./hvc.py for
# how a config applies a protocol.
protocol = dict(
    codec=dict(type='MaskCodec', resampling='dino'),
    propagator=dict(
        type='LabelPropagator',
        radius=12,
        neighbourhood='square',
        topk=5,
        temperature=0.1,
        context_size=7,
        dedup_context=True,
        restrict_long_term=True,
        backend='auto'))
