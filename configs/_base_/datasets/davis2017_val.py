# DAVIS-2017 val, 480p, multi-object; one item per sequence.
dataset_type = 'DAVISDataset'
data_root = 'data/DAVIS'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
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
        year='2017',
        split='val',
        resolution='480p',
        test_mode=True,
        pipeline=test_pipeline))

test_evaluator = dict(type='DAVISMetric', save_masks=True)
