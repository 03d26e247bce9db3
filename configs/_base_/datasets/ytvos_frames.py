# Frames of the unlabelled YouTube-VOS 2018 train videos, each epoch at most
# 80 frames per video, through the crop-pair pipeline.
_base_ = ['./crop_pair_pipeline.py']

dataset_type = 'VideoFrameDataset'
data_root = 'data/youtube_vos/train_all_frames'

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    # Frames are drawn per epoch by VideoFrameSampler; each sample's crops
    # are seeded from (seed, epoch, position) so a resumed run repeats them.
    sampler=dict(
        type='SeededSampler',
        sampler=dict(
            type='VideoFrameSampler', max_frames_per_video=80,
            shuffle=True)),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='SeededDataset',
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=dict(img_path='JPEGImages'),
            pipeline=_base_.train_pipeline)))
