from .crop_pair import RandomResizedCropPair, sample_crop_box
from .formatting import PackCropPairInputs
from .loading import LoadImageWithCheck, UnreadableImageError

__all__ = [
    'RandomResizedCropPair', 'sample_crop_box', 'PackCropPairInputs',
    'LoadImageWithCheck', 'UnreadableImageError'
]
