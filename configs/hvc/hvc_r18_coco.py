# HVC, ResNet-18, trained on COCO train2017 static images: the paper's
# reference setting (batch 128 on one GPU, Adam 1e-3, 20 epochs, 256 crops
# resized with Pillow's bilinear filter, pos_radius 0.1, EMA momentum
# 0.99 -> 1, mixed precision on GPU, shuffled images). docs/train.md gives the
# override that reproduces the released script instead (float32, no shuffle).
_base_ = [
    '../_base_/models/hvc_r18.py',
    '../_base_/datasets/coco_crop_pair.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]
