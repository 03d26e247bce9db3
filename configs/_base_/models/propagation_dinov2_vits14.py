# DINOv2 ViT-S/14 (Oquab et al. 2023) for label propagation: the patch
# tokens after the final norm, 384 channels on a 14-pixel grid (frames
# encoded at their size floored to multiples of 14), LayerScale blocks and
# position embeddings of the 518-pixel pretraining grid (37 x 37), ImageNet
# normalisation. Weights: dinov2_vits14_pretrain.pth (the hub file) in
# DINOv2's layout; for the *_reg4 files set num_register_tokens=4.
model = dict(
    type='LabelPropagationSegmentor',
    data_preprocessor=dict(
        type='VideoDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='VisionTransformer',
        arch='small',
        patch_size=14,
        img_size=518,
        layer_scale=1e-5),
    codec=dict(type='MaskCodec'),
    checkpoint_layout='dinov2')
