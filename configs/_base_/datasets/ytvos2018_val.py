# YouTube-VOS 2018 valid, as the reference runs it: every video is
# propagated through all its frames (valid_all_frames/JPEGImages), objects
# may first appear after frame 0, and only the masks of the frames listed
# in meta.json (every fifth) are written and zipped for the server.
# all_frames=False propagates on the sparse frames of valid/JPEGImages
# instead (a different protocol).
_base_ = './video_test_dataloader.py'

dataset_type = 'YouTubeVOSDataset'
data_root = 'data/youtube_vos_2018'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]

test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='valid',
        all_frames=True,
        pipeline=test_pipeline))

test_evaluator = dict(type='YouTubeVOSSubmission')
