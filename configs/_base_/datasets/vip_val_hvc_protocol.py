# VIP (VIP_Fine) val as the HVC reference inference code runs it: 50 videos
# of annotated frames, 20 classes (background and 19 human parts, 255
# unlabelled); each part class is given at the first frame where it is
# annotated (like a YouTube-VOS object) and propagated at full resolution.
# mIoU over the classes is accumulated over every frame of every video.
_base_ = './video_test_dataloader.py'

dataset_type = 'VIPDataset'
data_root = 'data/VIP_Fine'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadPartAnnotations', num_classes=20, new_parts_given=True),
    dict(
        type='PackVideoInputs',
        meta_keys=('seq_name', 'frame_names', 'frame_paths', 'ori_shape',
                   'img_shape', 'object_ids', 'given_frames',
                   'given_object_ids', 'palette', 'split')),
]

test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lists/val_videos.txt',
        pipeline=test_pipeline))

test_evaluator = dict(type='VIPMetric', num_classes=20)
