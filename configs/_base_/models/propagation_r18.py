# Test-time label propagation with the HVC ResNet-18 encoder truncated after
# layer3 (stride 1): 256 channels at output stride 8, full-resolution frames,
# ImageNet normalisation, under HVC's protocol (../protocols/hvc.py). The
# propagator's backend is the dense masked top-k on CUDA and the windowed
# one (same result, less work) on the CPU. Frames stay uint8 until each is
# normalised by the data preprocessor right before it is encoded; the labels
# are object (or part) id masks.
_base_ = '../protocols/hvc.py'

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
