from .crop_pair import RandomResizedCropPair, sample_crop_box
from .formatting import PackCropPairInputs
from .formatting_video import PackVideoInputs
from .loading import LoadImageWithCheck, UnreadableImageError
from .video import LoadVideoAnnotations, LoadVideoFrames

__all__ = [
    'RandomResizedCropPair', 'sample_crop_box', 'PackCropPairInputs',
    'LoadImageWithCheck', 'UnreadableImageError', 'PackVideoInputs',
    'LoadVideoAnnotations', 'LoadVideoFrames'
]
