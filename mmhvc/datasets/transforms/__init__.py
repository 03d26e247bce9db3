from .crop_pair import RandomResizedCropPair, sample_crop_box
from .formatting import PackCropPairInputs
from .formatting_video import PackVideoInputs
from .part_annotations import LoadPartAnnotations, read_class_map
from .pose import LoadVideoKeypoints, PackKeypointVideoInputs
from .resize_video import ResizeVideo
from .sparse_annotations import LoadSparseAnnotations
from .loading import LoadImageWithCheck, UnreadableImageError
from .video import LoadVideoAnnotations, LoadVideoFrames

__all__ = [
    'RandomResizedCropPair', 'sample_crop_box', 'PackCropPairInputs',
    'LoadImageWithCheck', 'UnreadableImageError', 'PackVideoInputs',
    'LoadVideoAnnotations', 'LoadVideoFrames', 'LoadPartAnnotations',
    'read_class_map', 'LoadVideoKeypoints', 'PackKeypointVideoInputs',
    'ResizeVideo', 'LoadSparseAnnotations'
]
