# VOST val, as the benchmark is run: each video is propagated through its
# 10 fps frames (JPEGImages_10fps) from its first annotated frame on, whose
# mask is given; only the annotated frames (a subset) are written and
# scored, the first and the last of them left out. The metric reports J and
# J_last (the last quarter of the scored frames) in the official CSVs.
# full_rate=True propagates through every frame of JPEGImages instead (a
# different protocol).
_base_ = './video_test_dataloader.py'

dataset_type = 'VOSTDataset'
data_root = 'data/VOST'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='LoadSparseAnnotations'),
    dict(
        type='PackVideoInputs',
        meta_keys=('seq_name', 'frame_names', 'frame_paths', 'ori_shape',
                   'object_ids', 'given_frames', 'given_object_ids',
                   'palette', 'split', 'gt_frames')),
]

test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        full_rate=False,
        pipeline=test_pipeline))

test_evaluator = dict(type='VOSTMetric')
