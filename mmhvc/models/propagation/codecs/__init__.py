from .base import BaseLabelCodec
from .keypoint_codec import (KeypointCodec, heatmaps_to_keypoints,
                             keypoints_to_heatmaps)
from .mask_codec import (MaskCodec, masks_to_soft, masks_to_soft_nearest,
                         soft_to_masks, soft_to_masks_normalized)

__all__ = [
    'BaseLabelCodec', 'KeypointCodec', 'MaskCodec', 'heatmaps_to_keypoints',
    'keypoints_to_heatmaps', 'masks_to_soft', 'masks_to_soft_nearest',
    'soft_to_masks', 'soft_to_masks_normalized'
]
