# A few CPU iterations of the HVC-R18 FCN on a tiny two-class dataset in
# mmseg's BaseSegDataset layout: a smoke test of the composition, not a
# benchmark. `data_root` holds
#   img_dir/{train,val}/<name>.png   3-channel images (e.g. 64x64)
#   ann_dir/{train,val}/<name>.png   uint8 label maps (0 background, 1 object)
# which tools/dataset_converters/make_tiny_seg.py generates:
#   python tools/dataset_converters/make_tiny_seg.py data/tiny_seg
#   python tools/train.py configs/seg/fcn_hvc-r18-d8_tiny_cpu.py
_base_ = ['./fcn_hvc-r18-d8_4xb4-40k_voc12-512x512.py']

data_root = 'data/tiny_seg'
crop_size = (64, 64)
# SyncBN needs a distributed GPU run; plain BN on the CPU.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    # Random HVC initialisation. To fine-tune, a child config replaces it
    # with `init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=...)`
    # (`_delete_` because a dict cannot be merged into None).
    backbone=dict(norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(channels=16, num_classes=2, norm_cfg=norm_cfg),
    auxiliary_head=dict(channels=8, num_classes=2, norm_cfg=norm_cfg))

metainfo = dict(
    classes=('background', 'object'), palette=[[0, 0, 0], [255, 0, 0]])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 4
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=max_iters))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
