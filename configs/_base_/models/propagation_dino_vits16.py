# DINO ViT-S/16 (Caron et al. 2021) for label propagation: the patch tokens
# of the last block after the final norm, 384 channels on a 16-pixel grid;
# frames are encoded at their size floored to multiples of 16. DINO's video
# segmentation script normalises with ImageNet's mean and std (0.228, 0.224,
# 0.225). Weights: dino_deitsmall16_pretrain.pth, or a full DINO checkpoint
# (its teacher backbone), read in DINO's layout. Pair it with
# ../protocols/dino.py for DINO's numbers.
model = dict(
    type='LabelPropagationSegmentor',
    data_preprocessor=dict(
        type='VideoDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.14, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='VisionTransformer', arch='small', patch_size=16,
        img_size=224),
    codec=dict(type='MaskCodec'),
    checkpoint_layout='dino')
