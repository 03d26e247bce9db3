from .hybrid_correspondence_loss import (HybridCorrespondenceLoss,
                                         coord_positive_mask,
                                         crop_bin_centres, positive_pair_sums)

__all__ = [
    'HybridCorrespondenceLoss', 'coord_positive_mask', 'crop_bin_centres',
    'positive_pair_sums'
]
