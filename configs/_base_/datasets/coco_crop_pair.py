# COCO train2017 images, two random resized crops of each (no flip, no
# colour jitter), as the paper trains.
dataset_type = 'StaticImageDataset'
data_root = 'data/coco'

train_pipeline = [
    dict(type='LoadImageWithCheck'),
    dict(
        type='RandomResizedCropPair',
        size=256,
        scale=(0., 1.),
        ratio=(3. / 4., 4. / 3.),
        # Pillow's bilinear resize smooths when it shrinks, as the
        # reference's torchvision crops on PIL images do; OpenCV's does not.
        backend='pillow'),
    dict(type='PackCropPairInputs'),
]

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
            pipeline=train_pipeline)))
