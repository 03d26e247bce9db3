# Test-time label propagation with the HVC ResNet-18 encoder truncated after
# layer3 (stride 1): 256 channels at output stride 8, full-resolution frames,
# ImageNet normalisation. Propagation as in HVC: radius 12 feature cells,
# top-15 neighbours, softmax temperature 0.1, the first frame plus the
# previous 50 frames as context (padded with copies of the first frame, as
# the reference protocol does). The propagator's backend is the dense masked
# top-k on CUDA and the windowed one (same result, less work) on the CPU.
# Frames stay uint8 until each is normalised
# by the data preprocessor right before it is encoded; the labels are object
# (or part) id masks.
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
    propagator=dict(
        type='LabelPropagator',
        radius=12,
        topk=15,
        temperature=0.1,
        context_size=50,
        dedup_context=False,
        backend='auto'))
