# CRW's encoder (Jabri et al. 2020, videowalk's pretrained.pth) for label
# propagation: a ResNet-18 truncated after layer3, layer3 at stride 1 (256
# channels at output stride 8), full-resolution frames, ImageNet
# normalisation as CRW's test loader does. The checkpoint is read in CRW's
# layout (checkpoint_layout='crw'). Pair it with a protocol from
# ../protocols/ (CRW's own: crw.py).
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
    codec=dict(type='MaskCodec'),
    checkpoint_layout='crw')
