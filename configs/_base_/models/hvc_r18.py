# HVC with a ResNet-18 encoder at output stride 8 (layer3 and layer4 at
# stride 1). Online branch: backbone -> neck (projector) -> head (predictor,
# flow layer, hybrid loss); the target branch is an EMA copy of backbone and
# neck whose momentum rises from 0.99 to 1 on a cosine schedule.
model = dict(
    type='HVC',
    data_preprocessor=dict(
        type='HVCDataPreprocessor',
        mean=[0.4914 * 255, 0.4822 * 255, 0.4465 * 255],
        std=[0.2023 * 255, 0.1994 * 255, 0.2010 * 255],
        bgr_to_rgb=True),
    backbone=dict(
        type='HVCResNet', depth=18, strides=(1, 2, 1, 1), out_indices=(3, )),
    neck=dict(
        type='HVCProjector', in_channels=512, hid_channels=256,
        out_channels=256),
    head=dict(
        type='HVCHead',
        predictor=dict(
            type='HVCProjector', in_channels=256, hid_channels=256,
            out_channels=256),
        # in_channels per view: the layer sees concat(q, k), 2 x 256.
        flow=dict(
            type='HVCFlowLayer', in_channels=256, hid_channels=256,
            out_channels=2),
        loss=dict(type='HybridCorrespondenceLoss', pos_radius=0.1)),
    base_momentum=0.99)
