# COCO train2017 images through the crop-pair pipeline, as the paper trains.
_base_ = ['./crop_pair_pipeline.py']

dataset_type = 'StaticImageDataset'
data_root = 'data/coco'

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    # Each sample's crops are seeded from (seed, epoch, position), so they do
    # not depend on num_workers and a resumed run draws the same crops.
    sampler=dict(
        type='SeededSampler',
        sampler=dict(type='DefaultSampler', shuffle=True)),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='SeededDataset',
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=dict(img_path='train2017'),
            pipeline=_base_.train_pipeline)))
