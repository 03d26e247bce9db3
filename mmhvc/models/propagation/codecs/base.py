"""What a label codec does for the propagation model."""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Tuple

from torch import Tensor


class BaseLabelCodec(metaclass=ABCMeta):
    """Translate between the labels of one frame and soft labels on the
    feature grid, as mmpose's codecs translate keypoints and heat maps.

    :meth:`encode` turns the labels given at one frame into ``(L, h, w)``
    soft labels; :meth:`decode` turns the soft labels of a frame back into
    its outputs. The propagation model's frame loop does the rest for every
    kind of label: which frames carry labels (the ``given_frames``
    metainfo), the label group each given frame starts (the channels its
    soft labels carry), and the blending of later labels into the
    propagated ones (:class:`~mmhvc.models.propagation.StreamingPropagator`).
    The labels are checked when they are loaded (the dataset transforms).

    The labels given at frame ``given_frames[k]`` are entry ``k`` of the
    data fields :attr:`given_keys`. ``meta`` is the video's metainfo, with
    ``frame_shape``, the ``(H, W)`` of the propagated frames, and
    ``ori_shape``, that of the frame the labels refer to (by default the
    same), and ``input_shape``, the ``(H', W')`` at which the frames were
    encoded (the frame size floored to the encoder's ``size_divisor``).
    Outputs are a dict of tensors of one frame; the model stacks them over
    the frames.
    """

    #: The data fields of the given labels, one entry per given frame.
    given_keys: Tuple[str, ...] = ()

    @abstractmethod
    def encode(self, given: Dict[str, Tensor], meta: dict,
               grid_size: Tuple[int, int]) -> Tensor:
        """Soft labels of the labels given at one frame.

        Args:
            given: Entry ``k`` of each of :attr:`given_keys`.
            meta: The video's metainfo.
            grid_size: ``(h, w)`` of the feature grid.

        Returns:
            float32 ``(L, h, w)`` soft labels, zero in the channels and at
            the positions that these labels leave open (they keep the
            propagated labels there).
        """

    @abstractmethod
    def decode(self,
               soft: Optional[Tensor],
               meta: dict,
               given: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """Outputs of one frame.

        Args:
            soft: ``(L, h, w)`` soft labels of the frame (all zero: a frame
                before the first given one); None at the first given frame,
                whose outputs are its labels.
            meta: The video's metainfo.
            given: The labels given at the frame, written over the decoded
                outputs; None for none.
        """
