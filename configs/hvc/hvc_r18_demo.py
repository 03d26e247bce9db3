# HVC, ResNet-18, trained for a few minutes on the CPU on the generated demo
# images (tools/dataset_converters/make_demo_davis.py --train-images 200).
# Same model and loss as the paper; smaller crops, batch and schedule.
_base_ = [
    '../_base_/models/hvc_r18.py',
    '../_base_/datasets/crop_pair_pipeline.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/demo_davis'

# The crop-pair pipeline at 64 pixels. The paper configs resize with Pillow;
# the demo keeps OpenCV because the README's demo J&F table was measured with
# a model trained by this config and serves as a regression reference.
train_pipeline = [
    dict(step, size=64, backend='cv2')
    if step['type'] == 'RandomResizedCropPair' else step
    for step in _base_.train_pipeline
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='StaticImageDataset',
        data_root=data_root,
        data_prefix=dict(img_path='train_images'),
        pipeline=train_pipeline))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=240)
param_scheduler = []

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(by_epoch=False, interval=80, max_keep_ckpts=2))
log_processor = dict(by_epoch=False, window_size=10)

# Crop pairs with their positive correspondences and the predicted
# pseudo-flow, every 50 iterations, through the visualizer.
custom_hooks = [
    dict(type='CorrespondenceVisualizationHook', interval=50),
    dict(type='NonFiniteGuardHook'),
]
