"""The test-time model: encode every frame, propagate its labels."""
import contextlib
import math
import time
from typing import (Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from mmhvc.checkpoint import (ENCODER_LAYOUTS, load_encoder_weights,
                              revise_propagation_state_dict)
from mmhvc.registry import LABEL_CODECS, MODELS
from .codecs import BaseLabelCodec
from .streaming import StreamingPropagator


@MODELS.register_module()
class LabelPropagationSegmentor(BaseModel):
    """Propagate the labels given in some frames of a video to all frames.

    Every frame from the first given one on is normalised by the
    :class:`~mmhvc.models.data_preprocessors.VideoDataPreprocessor` and
    encoded once at full resolution; the features are L2-normalised per
    position. With an ``extra_backbone`` the two normalised features are
    merged as ``normalise(concat(merge_weight * f_backbone, f_extra))``.

    One frame loop, a :class:`~mmhvc.models.propagation.StreamingPropagator`,
    serves every kind of label; the ``codec`` says what the labels are
    (:class:`~mmhvc.models.propagation.codecs.MaskCodec`: object or part id
    masks, the default;
    :class:`~mmhvc.models.propagation.codecs.KeypointCodec`: keypoints). At
    each given frame (the ``given_frames`` metainfo) the codec encodes the
    labels given there into soft labels on the feature grid, and the loop
    starts a new label group, with that frame as the long-term frame of its
    context (see :class:`~mmhvc.models.propagation.LabelPropagator`) and
    the channels its labels carry. Each later frame is propagated from
    every group's context, each group predicting only its own channels,
    and the predictions are summed. Each frame's soft labels
    are kept as they are, reused as context, and decoded by the codec into
    the frame's outputs.

    Encoders: any registered module that maps ``(B, 3, H, W)`` normalised
    frames to one ``(B, C, h, w)`` feature map (or a tuple whose last entry
    is used) and declares ``out_stride`` (pixels per feature cell) and
    ``size_divisor`` (the frame sides it accepts are multiples of it; 1 for
    any size): an ``HVCResNet`` truncated after a stage, or a
    ``VisionTransformer`` (patch tokens, stride and divisor the patch
    size). Frames whose sides are not multiples of ``size_divisor`` are
    resized bilinearly to the largest multiples below them before they are
    encoded (``input_shape`` in the metainfo the codec sees); the labels
    stay at the frame size. The grid an encoder returns is checked against
    its stride, and a merged encoder must give the same grid.

    Weights: ``backbone`` takes the encoder of an mmhvc training checkpoint
    (``backbone.*`` keys) or a backbone-only file (bare torchvision ResNet
    keys), e.g. through ``load_from`` / ``tools/test.py``: the keys are
    adapted when the model's state dict is loaded
    (:func:`~mmhvc.checkpoint.revise_propagation_state_dict`), and missing
    backbone weights are an error. With another ``checkpoint_layout``,
    :func:`~mmhvc.checkpoint.load_model_weights` (``tools/test.py``,
    :func:`~mmhvc.apis.init_model`) reads the file another method released
    (CRW's ``pretrained.pth``, DINO's ``dino_deitsmall8_pretrain.pth`` ...)
    through that layout's key map, strictly. ``extra_backbone`` is loaded from
    ``extra_checkpoint`` when the model is built.

    Args:
        backbone: Config of the encoder, e.g. an ``HVCResNet`` truncated
            after layer3 at stride 8.
        codec: Config of the label codec (registry ``LABEL_CODECS``).
        propagator: Config of the
            :class:`~mmhvc.models.propagation.LabelPropagator`.
        extra_backbone: Optional config of a second encoder whose features
            are merged with the backbone's; its output grid must match.
        extra_checkpoint: Checkpoint of ``extra_backbone``.
        extra_prefix: Prefix of the ``extra_backbone`` keys in
            ``extra_checkpoint`` (MoCo: ``'module.encoder_q.'``).
        merge_weight: Weight ``lambda`` of the backbone features in the merge.
        checkpoint_layout: Layout of the checkpoints given for the backbone
            (:data:`~mmhvc.checkpoint.ENCODER_LAYOUTS`): ``'mmhvc'``, or the
            layout of the method whose release is evaluated (``'crw'``,
            ``'dino'``, ``'dinov2'``, ``'torchvision'`` ...).
        fp16: Encode the frames and compute the affinities under CUDA
            autocast (float16 convolutions and matrix products), as the
            reference implementation does, which brings its top-k choices
            at near-ties closer to the reference's. CUDA only: with the
            model on another device, propagating is an error. Off by
            default (float32).
        encode_batch: Frames encoded at once. The features of a batch are
            propagated before the next batch is encoded, so memory does not
            grow with the video length.
        show_progress: Show a progress bar over the frames of each video.
            The number of frames propagated so far and the seconds they
            took (encoding included) are kept in ``propagated_frames`` and
            ``propagation_seconds`` (see :meth:`speed_summary`).
        data_preprocessor: Config of the
            :class:`~mmhvc.models.data_preprocessors.VideoDataPreprocessor`
            (mean, std, channel order); None uses its ImageNet defaults.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 codec: dict = dict(type='MaskCodec'),
                 propagator: dict = dict(type='LabelPropagator'),
                 extra_backbone: Optional[dict] = None,
                 extra_checkpoint: Optional[str] = None,
                 extra_prefix: str = '',
                 merge_weight: float = 1.05,
                 checkpoint_layout: str = 'mmhvc',
                 fp16: bool = False,
                 encode_batch: int = 1,
                 show_progress: bool = False,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='VideoDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if extra_checkpoint is not None and extra_backbone is None:
            raise ValueError('extra_checkpoint is set but extra_backbone is '
                             'not')
        self.backbone = self._build_encoder(backbone, 'backbone')
        self.extra_backbone = None
        if extra_backbone is not None:
            self.extra_backbone = self._build_encoder(
                extra_backbone, 'extra_backbone')
            if extra_checkpoint is not None:
                load_encoder_weights(self.extra_backbone, extra_checkpoint,
                                     extra_prefix)
        self.codec: BaseLabelCodec = LABEL_CODECS.build(codec)
        self.propagator = MODELS.build(propagator)
        self.merge_weight = merge_weight
        if checkpoint_layout not in ENCODER_LAYOUTS:
            raise ValueError(
                f'model.checkpoint_layout must be one of {ENCODER_LAYOUTS}, '
                f'got "{checkpoint_layout}"')
        self.checkpoint_layout = checkpoint_layout
        self.fp16 = fp16
        if encode_batch < 1:
            raise ValueError(f'encode_batch must be >= 1, got {encode_batch}')
        self.encode_batch = encode_batch
        self.show_progress = show_progress
        self.propagated_frames = 0
        self.propagation_seconds = 0.

    @staticmethod
    def _build_encoder(cfg: dict, name: str) -> nn.Module:
        """Build an encoder and check that it declares its stride."""
        encoder = MODELS.build(cfg)
        for attr in ('out_stride', 'size_divisor'):
            value = getattr(encoder, attr, None)
            if not isinstance(value, int) or value < 1:
                raise TypeError(
                    f'model.{name} ({type(encoder).__name__}) must declare '
                    f'{attr}, a positive int (see LabelPropagationSegmentor: '
                    f'encoders), got {value!r}')
        return encoder

    @property
    def feature_stride(self) -> int:
        """Pixels of the encoded frame per feature cell."""
        return self.backbone.out_stride

    def input_shape(self, frame_shape: Tuple[int, int]) -> Tuple[int, int]:
        """``(H', W')`` at which ``(H, W)`` frames are encoded: each side
        floored to a multiple of every encoder's ``size_divisor``."""
        divisor = self.backbone.size_divisor
        if self.extra_backbone is not None:
            divisor = math.lcm(divisor, self.extra_backbone.size_divisor)
        height, width = (side // divisor * divisor for side in frame_shape)
        if height == 0 or width == 0:
            raise ValueError(
                f'{tuple(frame_shape)} frames are smaller than the '
                f'encoder\'s size_divisor {divisor}')
        return height, width

    def forward(self,
                inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'predict') -> Union[List[BaseDataElement],
                                                List[Tensor]]:
        """Propagate the labels of videos (``mode='predict'``) or encode
        their frames (``mode='tensor'``).

        Args:
            inputs: Videos, each ``(T, 3, H, W)`` uint8 frames (a list, or a
                ``(B, T, 3, H, W)`` tensor).
            data_samples: One per video, with the given labels (see the
                codec); needed for ``'predict'``.
            mode: ``'predict'`` or ``'tensor'``; this model has no loss.

        Returns:
            ``'predict'``: the data samples with the codec's outputs.
            ``'tensor'``: per video, ``(T, C, h, w)`` frame features.
        """
        if mode == 'predict':
            if data_samples is None:
                raise ValueError('mode="predict" needs data_samples with the '
                                 'given labels')
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return [
                torch.cat(list(self.iter_feats(video))) for video in inputs
            ]
        raise ValueError(f'LabelPropagationSegmentor is a test-time model: '
                         f'mode must be "predict" or "tensor", got "{mode}"')

    def predict(self, inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: List[BaseDataElement]) -> List[BaseDataElement]:
        """Add the outputs of :meth:`propagate_video` (e.g. ``pred_masks``,
        or ``pred_keypoints`` and ``pred_visible``) to each data sample."""
        if len(inputs) != len(data_samples):
            raise ValueError(f'{len(inputs)} videos but {len(data_samples)} '
                             'data samples')
        for video, data_sample in zip(inputs, data_samples):
            data_sample.set_data(self.propagate_video(video, data_sample))
        return data_samples

    @torch.no_grad()
    def extract_feat(self, frame: Tensor) -> Tensor:
        """Encode one ``(3, H, W)`` frame (0-255) into ``(C, h, w)``
        features, L2-normalised over ``C``."""
        return self.extract_feats(frame[None])[0]

    @torch.no_grad()
    def extract_feats(self, frames: Tensor) -> Tensor:
        """Encode ``(B, 3, H, W)`` frames (0-255) at once into ``(B, C, h,
        w)`` features, L2-normalised over ``C``."""
        x = torch.cat(
            [self.data_preprocessor.normalize_frame(f) for f in frames])
        size = self.input_shape(tuple(x.shape[2:]))
        if size != tuple(x.shape[2:]):
            x = F.interpolate(
                x, size, mode='bilinear', align_corners=False)
        with self.precision(frames.device):
            feat = self._encode(self.backbone, x)
            other = None if self.extra_backbone is None else self._encode(
                self.extra_backbone, x)
        if other is None:
            return feat
        if other.shape[2:] != feat.shape[2:]:
            raise ValueError(
                f'extra_backbone gives a {tuple(other.shape[2:])} feature '
                f'grid but the backbone {tuple(feat.shape[2:])}; they must '
                'have the same output stride')
        return F.normalize(
            torch.cat([self.merge_weight * feat, other], dim=1), dim=1)

    def iter_feats(self, frames: Tensor) -> Iterator[Tensor]:
        """Features of ``(T, 3, H, W)`` frames, ``encode_batch`` frames at a
        time: ``(B, C, h, w)`` per batch."""
        for start in range(0, len(frames), self.encode_batch):
            yield self.extract_feats(frames[start:start + self.encode_batch])

    @staticmethod
    def _encode(encoder: nn.Module, x: Tensor) -> Tensor:
        """Last output of ``encoder`` on ``(B, 3, H, W)``, as ``(B, C, h,
        w)`` normalised over ``C``, its grid checked against the encoder's
        ``out_stride``: ``(ceil(H / s), ceil(W / s))``."""
        out = encoder(x)
        if isinstance(out, (list, tuple)):
            out = out[-1]
        stride = encoder.out_stride
        expected = tuple(-(-side // stride) for side in x.shape[2:])
        if out.dim() != 4 or tuple(out.shape[2:]) != expected:
            raise ValueError(
                f'{type(encoder).__name__} declares out_stride {stride} but '
                f'maps a {tuple(x.shape[2:])} input to '
                f'{tuple(out.shape)} instead of (B, C) + {expected}')
        return F.normalize(out, dim=1)

    @torch.no_grad()
    def propagate_video(self, video: Tensor,
                        data_sample: BaseDataElement) -> Dict[str, Tensor]:
        """Propagate the given labels of one video to all its frames.

        Args:
            video: ``(T, 3, H, W)`` frames, 0-255 (BGR when the data
                preprocessor's ``bgr_to_rgb``).
            data_sample: The given labels (the codec's ``given_keys``, one
                entry per given frame), the metainfo ``given_frames`` and
                what the codec reads of it, and the optional ``seq_name``
                for error messages.

        Returns:
            The codec's outputs, each with a leading frame dimension ``T``,
            on the CPU; frames before the first given frame hold the
            decoding of all-zero soft labels.
        """
        name = data_sample.metainfo.get('seq_name', '<unnamed video>')
        if video.dim() != 4 or video.shape[1] != 3:
            raise ValueError(f'{name}: expected (T, 3, H, W) frames, got '
                             f'{tuple(video.shape)}')
        meta = dict(
            data_sample.metainfo,
            frame_shape=tuple(video.shape[2:]),
            input_shape=self.input_shape(tuple(video.shape[2:])))
        meta.setdefault('ori_shape', meta['frame_shape'])
        given = self._given_labels(data_sample, meta, len(video), name)
        first = min(given)
        outputs: Dict[str, Tensor] = {}
        stream = StreamingPropagator(
            self.propagator, num_long_term=len(given))
        progress = ProgressBar(len(video)) if self.show_progress else None
        if progress is not None:
            for _ in range(first):
                progress.update()
        start = time.perf_counter()
        t = first
        for feats in self.iter_feats(video[first:]):
            for feat in feats:
                labels = channels = None
                if t in given:
                    labels = self.codec.encode(given[t], meta,
                                               tuple(feat.shape[1:]))
                    labels = labels.to(feat.device)
                    if not outputs:
                        # Every frame starts as the decoding of all-zero
                        # labels (frames before the first given one keep
                        # it).
                        outputs = {
                            key: value.cpu()[None].repeat(
                                len(video), *([1] * value.dim()))
                            for key, value in self.codec.decode(
                                torch.zeros_like(labels), meta).items()
                        }
                    # The group that starts here predicts the channels
                    # that its labels carry.
                    channels = (labels.flatten(1).amax(1) > 0).to(
                        labels.dtype)[:, None, None]
                with self.precision(feat.device):
                    soft = stream.step(feat, labels, channels)
                if t in given:
                    decoded = self.codec.decode(stream.propagated, meta,
                                                given[t])
                else:
                    decoded = self.codec.decode(soft, meta)
                for key, value in decoded.items():
                    outputs[key][t] = value.cpu()
                t += 1
                if progress is not None:
                    progress.update()
        self.propagated_frames += len(video) - first
        self.propagation_seconds += time.perf_counter() - start
        return outputs

    def _given_labels(self, data_sample: BaseDataElement, meta: dict,
                      num_frames: int,
                      name: str) -> Dict[int, Dict[str, Tensor]]:
        """The labels given at each given frame: entry ``k`` of the codec's
        ``given_keys`` at frame ``given_frames[k]``."""
        frames = [int(t) for t in meta.get('given_frames', ())]
        if not frames or frames != sorted(set(frames)) or frames[0] < 0 \
                or frames[-1] >= num_frames:
            raise ValueError(
                f'{name}: given_frames {frames} must be sorted, distinct '
                f'frame indices below {num_frames}')
        given = {t: {} for t in frames}
        for key in self.codec.given_keys:
            if key not in data_sample:
                raise KeyError(f'{name}: the data sample has no "{key}"')
            values = data_sample.get(key)
            if len(values) != len(frames):
                raise ValueError(
                    f'{name}: {key} holds {len(values)} entries for '
                    f'{len(frames)} given frames')
            for t, value in zip(frames, values):
                given[t][key] = torch.as_tensor(value)
        return given

    def speed_summary(self) -> str:
        """The frames propagated so far, their time and frames/s."""
        rate = self.propagated_frames / self.propagation_seconds \
            if self.propagation_seconds else 0.
        return (f'propagated {self.propagated_frames} frames in '
                f'{self.propagation_seconds:.1f} s: {rate:.2f} frames/s '
                '(encoding included)')

    def precision(self,
                   device: torch.device) -> contextlib.AbstractContextManager:
        """CUDA autocast to float16 with ``fp16``, else a no-op."""
        if not self.fp16:
            return contextlib.nullcontext()
        if device.type != 'cuda':
            raise ValueError(
                'fp16=True runs the encoders and affinities under CUDA '
                'autocast and needs the model on a CUDA device, but the '
                f'frames are on "{device}"; set model.fp16=False to '
                'propagate in float32 there')
        return torch.autocast('cuda', dtype=torch.float16)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Adapt a checkpoint before it is loaded (see
        :func:`~mmhvc.checkpoint.revise_propagation_state_dict`)."""
        revise_propagation_state_dict(
            state_dict, self.state_dict(prefix=prefix, keep_vars=True),
            prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
