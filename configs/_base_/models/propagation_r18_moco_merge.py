# The propagation model of propagation_r18.py with the feature merge of the
# paper's tables: normalise(concat(1.05 * f_hvc, f_moco)), f_moco from a
# MoCo-v1 ResNet-50 truncated after layer3 at stride 8 (1024 channels). See
# docs/test.md for the MoCo-v1 weights and their conversion.
_base_ = './propagation_r18.py'

moco_checkpoint = 'checkpoints/moco_v1_200ep_r50_backbone.pth'
model = dict(
    extra_backbone=dict(
        type='HVCResNet',
        depth=50,
        num_stages=3,
        strides=(1, 2, 1),
        out_indices=(2, )),
    extra_checkpoint=moco_checkpoint,
    merge_weight=1.05)
