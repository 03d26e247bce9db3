# VIP (VIP_Fine) val: 50 videos of annotated frames, 20 classes (background
# and 19 human parts, 255 unlabelled). Each part class is propagated from the
# first frame like a DAVIS object; mIoU over the classes is accumulated over
# every frame of every video at the annotation's resolution.
dataset_type = 'VIPDataset'
data_root = 'data/VIP_Fine'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    # new_parts_given=True also gives each part where it first appears (what
    # the HVC reference inference code does when every frame is annotated).
    dict(type='LoadPartAnnotations', num_classes=20, new_parts_given=False),
    # Frames are encoded with a 560-pixel short side (aspect ratio kept);
    # predictions are scored at the annotation's resolution. Remove this step
    # to propagate at full resolution, or use scale=(560, 560) for the square
    # frames of the CRW test script.
    dict(type='ResizeVideo', short_side=560),
    dict(
        type='PackVideoInputs',
        meta_keys=('seq_name', 'frame_names', 'frame_paths', 'ori_shape',
                   'img_shape', 'object_ids', 'given_frames',
                   'given_object_ids', 'palette', 'split')),
]

test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lists/val_videos.txt',
        test_mode=True,
        pipeline=test_pipeline))

test_evaluator = dict(type='VIPMetric', num_classes=20)
