from .base import BaseLabelCodec, GivenLabels
from .keypoint_codec import (GivenKeypoints, KeypointCodec,
                             heatmaps_to_keypoints, keypoints_to_heatmaps)
from .mask_codec import GivenMasks, MaskCodec

__all__ = [
    'BaseLabelCodec', 'GivenLabels', 'GivenKeypoints', 'GivenMasks',
    'KeypointCodec', 'MaskCodec', 'heatmaps_to_keypoints',
    'keypoints_to_heatmaps'
]
