# Two random resized crops of one image with their boxes (no flip, no colour
# jitter), as the paper trains; the dataset configs feed their images to it.
train_pipeline = [
    dict(type='LoadImageWithCheck'),
    dict(
        type='RandomResizedCropPair',
        size=256,
        scale=(0., 1.),
        ratio=(3. / 4., 4. / 3.),
        # Pillow's bilinear resize smooths when it shrinks, as the
        # reference's torchvision crops on PIL images do; OpenCV's does not.
        backend='pillow'),
    dict(type='PackCropPairInputs'),
]
