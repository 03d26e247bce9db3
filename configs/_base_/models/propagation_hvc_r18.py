# The HVC ResNet-18 encoder for label propagation, truncated after layer3
# (stride 1): 256 channels at output stride 8, full-resolution frames,
# ImageNet normalisation. Frames stay uint8 until each is normalised by the
# data preprocessor right before it is encoded; the labels are object (or
# part) id masks. No protocol: pair it with one from ../protocols/
# (./propagation_r18.py pairs it with HVC's).
model = dict(
    type='LabelPropagationSegmentor',
    data_preprocessor=dict(
        type='VideoDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='HVCResNet',
        depth=18,
        num_stages=3,
        strides=(1, 2, 1),
        out_indices=(2, )),
    codec=dict(type='MaskCodec'))
