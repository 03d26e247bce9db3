# YouTube-VOS 2018 valid: objects may first appear after frame 0; the masks
# of the frames listed in meta.json are written and zipped for the server.
dataset_type = 'YouTubeVOSDataset'
data_root = 'data/youtube_vos_2018'

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
        ann_file='valid/meta.json',
        frames_dir='valid/JPEGImages',
        ann_dir='valid/Annotations',
        test_mode=True,
        pipeline=test_pipeline))

test_evaluator = dict(type='YouTubeVOSSubmission')
