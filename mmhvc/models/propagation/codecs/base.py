"""What a label codec does for the propagation model."""
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmengine.structures import BaseDataElement
from torch import Tensor


@dataclass
class GivenLabels:
    """The checked annotations of one video that a codec propagates.

    Attributes:
        frames: Sorted indices of the frames where labels are given; frame
            ``frames[k]`` starts the ``k``-th label group, whose context has
            that frame as its long-term frame.
        num_labels: Number ``L`` of soft-label channels.
    """
    frames: List[int]
    num_labels: int


class BaseLabelCodec(metaclass=ABCMeta):
    """Translate between a video's annotations and propagated soft labels.

    The propagation model runs one frame loop for every kind of label; its
    codec says what the labels are. Per video the codec first checks the
    data sample (:meth:`read`). At each given frame it turns the annotation
    into ``(L, h, w)`` soft labels on the feature grid and names the
    channels that the new group's context predicts (:meth:`encode`;
    :class:`~mmhvc.models.propagation.StreamingPropagator` applies them); every
    propagated frame's soft labels are turned back into that frame's outputs
    (:meth:`decode`), the given frames' outputs come from their annotation
    (:meth:`given_outputs`), and frames before the first given frame keep
    the values of :meth:`empty_outputs`.

    Outputs are a dict of tensors: per frame, the values of one frame; per
    video, the same keys with a leading frame dimension ``T``.
    """

    @abstractmethod
    def read(self, data_sample: BaseDataElement, video: Tensor,
             name: str) -> GivenLabels:
        """Check the annotations of a video and bring them to its device.

        Args:
            data_sample: The video's data sample with its given labels.
            video: ``(T, 3, H, W)`` frames.
            name: Name of the video for error messages.

        Raises:
            KeyError: A needed key is missing (named in the message).
            ValueError: The annotations are malformed.
        """

    @abstractmethod
    def encode(self, labels: GivenLabels, index: int,
               feat: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Soft labels of the ``index``-th given frame.

        Args:
            labels: From :meth:`read`.
            index: Which given frame (``labels.frames[index]``).
            feat: ``(C, h, w)`` features of that frame (their grid, device
                and dtype).

        Returns:
            ``(given, channels)``: the ``(L, h, w)`` soft labels given at the
            frame (zero outside the channels of the group that starts
            there; the propagation blends them into the labels propagated
            to the frame) and a ``(L, 1, 1)`` 0/1 mask of the channels the
            new group predicts (None: all).
        """

    @abstractmethod
    def decode(self, labels: GivenLabels,
               soft: Tensor) -> Dict[str, Tensor]:
        """Outputs of one frame from its ``(L, h, w)`` soft labels."""

    @abstractmethod
    def given_outputs(self, labels: GivenLabels, index: int,
                      decoded: Optional[Dict[str, Tensor]]
                      ) -> Dict[str, Tensor]:
        """Outputs of the ``index``-th given frame: its annotation written
        over ``decoded``, the outputs decoded from the labels propagated to
        it (None for the first given frame)."""

    @abstractmethod
    def empty_outputs(self, labels: GivenLabels,
                      num_frames: int) -> Dict[str, Tensor]:
        """Outputs of a ``num_frames`` video where no frame has a label, on
        the CPU."""
