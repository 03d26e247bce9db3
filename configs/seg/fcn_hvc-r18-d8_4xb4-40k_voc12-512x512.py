# FCN on PASCAL VOC 2012 with an HVC ResNet-18 encoder, fine-tuned from an
# mmhvc checkpoint: mmsegmentation's own FCN, dataset, runtime and 40k
# schedule (inherited from the installed mmseg package through `mmseg::`),
# with the backbone swapped for mmhvc's HVCResNet.
#
# The encoder keeps HVC's geometry: layer3 and layer4 at stride 1 and no
# dilation, so every stage from layer2 on has output stride 8 ("d8"), as in
# self-supervised training. Train with 4 GPUs x 4 images:
#   bash tools/dist_train.sh \
#       configs/seg/fcn_hvc-r18-d8_4xb4-40k_voc12-512x512.py 4
# See docs/compose_with_mmseg.md for the whole recipe.
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    'mmseg::_base_/datasets/pascal_voc12.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
# Importing mmhvc.models fills mmhvc's registry; `mmhvc.HVCResNet` is then
# found from inside the mmseg scope.
custom_imports = dict(imports=['mmhvc.models'], allow_failed_imports=False)

# An mmhvc training checkpoint (tools/train.py configs/hvc/hvc_r18_coco.py);
# `prefix='backbone.'` loads its online encoder. For a backbone-only file
# (tools/model_converters/mmhvc_to_backbone.py, hvc_official_to_mmhvc.py or
# publish_model.py --backbone-only) remove `prefix`.
hvc_checkpoint = 'work_dirs/hvc_r18_coco/epoch_20.pth'

crop_size = (512, 512)
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmhvc.HVCResNet',
        depth=18,
        num_stages=4,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=hvc_checkpoint, prefix='backbone.')),
    decode_head=dict(in_channels=512, channels=128, num_classes=21),
    auxiliary_head=dict(in_channels=256, channels=64, num_classes=21))
