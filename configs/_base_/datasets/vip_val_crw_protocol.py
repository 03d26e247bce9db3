# VIP (VIP_Fine) val as CRW's test script runs it: only the parts of the
# first frame are given and propagated, on frames resized to 560 x 560;
# predictions are scored at the annotation's resolution.
_base_ = './vip_val_hvc_protocol.py'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadPartAnnotations', num_classes=20, new_parts_given=False),
    # Frames are encoded at 560 x 560 (the aspect ratio is not kept); the
    # given mask is resized with nearest-neighbour interpolation.
    dict(type='ResizeVideo', scale=(560, 560)),
    dict(
        type='PackVideoInputs',
        meta_keys=('seq_name', 'frame_names', 'frame_paths', 'ori_shape',
                   'img_shape', 'object_ids', 'given_frames',
                   'given_object_ids', 'palette', 'split')),
]

test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
