# DAVIS-2017 val, 480p, multi-object; one item per sequence.
_base_ = './video_test_dataloader.py'

dataset_type = 'DAVISDataset'
data_root = 'data/DAVIS'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]

test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        year='2017',
        split='val',
        resolution='480p',
        pipeline=test_pipeline))

test_evaluator = dict(type='DAVISMetric')
