# HVC, ResNet-18, trained on frames of YouTube-VOS 2018 train (at most 80
# frames per video per epoch), otherwise the paper's setting.
_base_ = [
    '../_base_/models/hvc_r18.py',
    '../_base_/datasets/ytvos_frames.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]
