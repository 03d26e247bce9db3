# VIP part propagation as the HVC reference inference code runs it, the
# protocol of the paper's 44.6 mIoU as far as that code shows: every part
# class given at its first annotated frame, full-resolution frames, HVC's
# propagation settings (radius 12, top-15, temperature 0.1, first frame plus
# 50 previous frames) and the feature merge
# normalise(concat(1.05 * f_hvc, f_moco)) with the MoCo-v1 ResNet-50 (see
# docs/test.md for its weights).
_base_ = [
    '../_base_/models/propagation_r18_moco_merge.py',
    '../_base_/datasets/vip_val_hvc_protocol.py',
    '../_base_/propagation_runtime.py',
]
