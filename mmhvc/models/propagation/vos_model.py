"""Semi-supervised video object segmentation by label propagation."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from mmhvc.registry import MODELS
from ..utils.checkpoint_convert import (find_state_dict, is_resnet_key,
                                        load_checkpoint_file)
from .context_memory import ContextMemory

_IGNORED_KEY_SUFFIX = 'num_batches_tracked'


class _ObjectGroup(NamedTuple):
    """Objects given at the same frame, propagated with their own context.

    ``start`` is the frame the group is given at (its long-term frame) and
    ``channels`` a ``(L, 1, 1)`` 0/1 mask of the label channels it predicts.
    """
    start: int
    channels: Tensor


def load_encoder_weights(module: nn.Module, filename: str,
                         prefix: str = '') -> None:
    """Load ResNet encoder weights stored under ``prefix`` into ``module``.

    Args:
        module: The encoder.
        filename: A checkpoint whose state dict (itself, or under
            ``state_dict``/``model``) holds the encoder keys.
        prefix: Prefix of the encoder keys in the checkpoint, e.g.
            ``'module.encoder_q.'`` for MoCo; ``''`` for a backbone file.

    Raises:
        KeyError: The checkpoint lacks some of the encoder's parameters.
    """
    state_dict, _ = find_state_dict(load_checkpoint_file(filename), filename)
    weights = {
        key[len(prefix):]: value
        for key, value in state_dict.items()
        if key.startswith(prefix) and is_resnet_key(key[len(prefix):])
    }
    missing, _ = module.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith(_IGNORED_KEY_SUFFIX)]
    if missing:
        raise KeyError(f'{filename}: no weights under the prefix "{prefix}" '
                       f'for {len(missing)} encoder parameters, e.g. '
                       f'{missing[:5]}')


@MODELS.register_module()
class LabelPropagationSegmentor(BaseModel):
    """Propagate the given object masks of a video to all its frames.

    Every frame is normalised (``bgr_to_rgb``, then ``(x - mean) / std`` in
    0-255 units) and encoded once at full resolution; the features are
    L2-normalised per position. With an ``extra_backbone`` the two
    normalised features are merged as
    ``normalise(concat(merge_weight * f_backbone, f_extra))``.

    Labels have one channel for the background and one per object id
    (``[0] + object_ids``). The objects given at frame ``t0`` (all of them
    for DAVIS; those that first appear there for YouTube-VOS) form a group:
    their given mask becomes one-hot soft labels, resized to the feature
    grid (bilinear, ``align_corners=True``), and from ``t0 + 1`` on the
    group is propagated with its own context (long-term frame ``t0``, see
    :class:`~mmhvc.models.propagation.LabelPropagator`), predicting only its
    own channels (the first group also predicts the background). The
    groups' predictions are summed; at a later given frame the new objects'
    resized masks ``m`` replace the prediction where they have foreground
    (``p = (1 - s) * p + s * m`` with ``s = sum(m)``). The soft labels of
    each frame are kept as they are and reused as context. The output of a
    frame is the argmax of its soft labels upsampled to the frame size
    (bilinear, ``align_corners=True``), mapped back to object ids; where a
    given mask has an object, that object is written. Frames before the
    first given frame are background.

    Weights: ``backbone`` takes the encoder of an mmhvc training checkpoint
    (``backbone.*`` keys) or a backbone-only file (bare torchvision ResNet
    keys), e.g. through ``load_from`` / ``tools/test.py``: the keys are
    adapted when the model's state dict is loaded, and missing backbone
    weights are an error. ``extra_backbone`` is loaded from
    ``extra_checkpoint`` when the model is built.

    Args:
        backbone: Config of the encoder, e.g. an ``HVCResNet`` truncated
            after layer3 at stride 8.
        propagator: Config of the
            :class:`~mmhvc.models.propagation.LabelPropagator`.
        extra_backbone: Optional config of a second encoder whose features
            are merged with the backbone's; its output grid must match.
        extra_checkpoint: Checkpoint of ``extra_backbone``.
        extra_prefix: Prefix of the ``extra_backbone`` keys in
            ``extra_checkpoint`` (MoCo: ``'module.encoder_q.'``).
        merge_weight: Weight ``lambda`` of the backbone features in the merge.
        mean: Per-channel mean (RGB order when ``bgr_to_rgb``, 0-255 units).
        std: Per-channel standard deviation (same order and units).
        bgr_to_rgb: Whether the input frames are BGR and are flipped to RGB.
        show_progress: Show a progress bar over the frames of each video.
        data_preprocessor: Config of the data preprocessor; the default only
            moves the data to the model's device.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 propagator: dict = dict(type='LabelPropagator'),
                 extra_backbone: Optional[dict] = None,
                 extra_checkpoint: Optional[str] = None,
                 extra_prefix: str = '',
                 merge_weight: float = 1.05,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 show_progress: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'mean and std need 3 values, got {mean} and '
                             f'{std}')
        if extra_checkpoint is not None and extra_backbone is None:
            raise ValueError('extra_checkpoint is set but extra_backbone is '
                             'not')
        self.backbone = MODELS.build(backbone)
        self.extra_backbone = None
        if extra_backbone is not None:
            self.extra_backbone = MODELS.build(extra_backbone)
            if extra_checkpoint is not None:
                load_encoder_weights(self.extra_backbone, extra_checkpoint,
                                     extra_prefix)
        self.propagator = MODELS.build(propagator)
        self.merge_weight = merge_weight
        self.bgr_to_rgb = bgr_to_rgb
        self.show_progress = show_progress
        self.register_buffer(
            'mean', torch.tensor(mean, dtype=torch.float32).view(3, 1, 1),
            False)
        self.register_buffer(
            'std', torch.tensor(std, dtype=torch.float32).view(3, 1, 1),
            False)

    def forward(self,
                inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'predict') -> Union[List[BaseDataElement],
                                                List[Tensor]]:
        """Segment videos (``mode='predict'``) or encode their frames
        (``mode='tensor'``).

        Args:
            inputs: Videos, each ``(T, 3, H, W)`` uint8 frames (a list, or a
                ``(B, T, 3, H, W)`` tensor).
            data_samples: One per video, with the given masks (see
                :meth:`segment_video`); needed for ``'predict'``.
            mode: ``'predict'`` or ``'tensor'``; this model has no loss.

        Returns:
            ``'predict'``: the data samples with ``pred_masks``.
            ``'tensor'``: per video, ``(T, C, h, w)`` frame features.
        """
        if mode == 'predict':
            if data_samples is None:
                raise ValueError('mode="predict" needs data_samples with the '
                                 'given masks')
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return [
                torch.stack([self.extract_feat(frame) for frame in video])
                for video in inputs
            ]
        raise ValueError(f'LabelPropagationSegmentor is a test-time model: '
                         f'mode must be "predict" or "tensor", got "{mode}"')

    def predict(self, inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: List[BaseDataElement]) -> List[BaseDataElement]:
        """Add ``pred_masks`` (torch.uint8 ``(T, H, W)`` object ids, on the
        CPU) to each data sample."""
        if len(inputs) != len(data_samples):
            raise ValueError(f'{len(inputs)} videos but {len(data_samples)} '
                             'data samples')
        for video, data_sample in zip(inputs, data_samples):
            data_sample.set_data(
                dict(pred_masks=self.segment_video(video, data_sample)))
        return data_samples

    @torch.no_grad()
    def extract_feat(self, frame: Tensor) -> Tensor:
        """Encode one ``(3, H, W)`` frame (0-255) into ``(C, h, w)``
        features, L2-normalised over ``C``."""
        x = frame.to(self.mean.dtype)
        if self.bgr_to_rgb:
            x = x.flip(0)
        x = ((x - self.mean) / self.std)[None]
        feat = self._encode(self.backbone, x)
        if self.extra_backbone is None:
            return feat
        other = self._encode(self.extra_backbone, x)
        if other.shape[1:] != feat.shape[1:]:
            raise ValueError(
                f'extra_backbone gives a {tuple(other.shape[1:])} feature '
                f'grid but the backbone {tuple(feat.shape[1:])}; they must '
                'have the same output stride')
        return F.normalize(
            torch.cat([self.merge_weight * feat, other]), dim=0)

    @staticmethod
    def _encode(encoder: nn.Module, x: Tensor) -> Tensor:
        """Last output of ``encoder`` on ``(1, 3, H, W)``, as ``(C, h, w)``
        normalised over ``C``."""
        out = encoder(x)
        if isinstance(out, (list, tuple)):
            out = out[-1]
        return F.normalize(out[0], dim=0)

    @torch.no_grad()
    def segment_video(self, video: Tensor,
                      data_sample: BaseDataElement) -> Tensor:
        """Propagate the given masks of one video.

        Args:
            video: ``(T, 3, H, W)`` frames, 0-255 (BGR when ``bgr_to_rgb``).
            data_sample: Holds ``given_masks`` (uint8 ``(K, H, W)`` label
                maps, 0 background) and the metainfo ``given_frames`` (K
                sorted frame indices); optional metainfo ``object_ids``
                (sorted ids), ``given_object_ids`` (per given frame, the ids
                first given there) and ``seq_name``.

        Returns:
            ``(T, H, W)`` uint8 object ids, on the CPU.
        """
        name = data_sample.metainfo.get('seq_name', '<unnamed video>')
        given_frames, given_masks, object_ids, group_ids = \
            self._read_given(video, data_sample, name)
        num_frames, _, height, width = video.shape
        channel_of = {obj: c for c, obj in enumerate([0] + object_ids)}
        label_ids = torch.tensor([0] + object_ids,
                                 dtype=torch.uint8,
                                 device=video.device)
        given_at = {t: k for k, t in enumerate(given_frames)}

        preds = torch.zeros(num_frames, height, width, dtype=torch.uint8)
        groups: List[_ObjectGroup] = []
        memory = None
        progress = ProgressBar(num_frames) if self.show_progress else None
        for t in range(num_frames):
            if t >= given_frames[0]:
                feat = self.extract_feat(video[t])
                if memory is None:
                    memory = self.propagator.init_memory(
                        len(given_frames), feat.shape[0], len(channel_of),
                        feat.shape[1], feat.shape[2], feat.device,
                        feat.dtype)
                soft = self._propagate(feat, memory, groups, t)
                out = None if soft is None else self._decode(
                    soft, label_ids, (height, width))
                if t in given_at:
                    k = given_at[t]
                    soft, out = self._start_group(t, given_masks[k],
                                                  group_ids[k], groups,
                                                  channel_of, soft, out,
                                                  feat.shape[1:])
                memory.retain(
                    self.propagator.memory_frames([g.start for g in groups],
                                                  t))
                memory.add(t, feat, soft)
                preds[t] = out.cpu()
            if progress is not None:
                progress.update()
        return preds

    def _start_group(self, t: int, mask: Tensor, ids: List[int],
                     groups: List[_ObjectGroup], channel_of: Dict[int, int],
                     soft: Optional[Tensor], out: Optional[Tensor],
                     grid: torch.Size) -> Tuple[Tensor, Tensor]:
        """Add the group of the objects ``ids`` given at frame ``t``.

        Args:
            t: The given frame.
            mask: ``(H, W)`` given label map of frame ``t``.
            ids: The objects first given at ``t``.
            groups: The groups so far; the new one is appended.
            channel_of: Label channel of each object id (0: background).
            soft: ``(L, h, w)`` propagated labels of frame ``t``, or None at
                the first given frame.
            out: ``(H, W)`` predicted ids of frame ``t``, or None.
            grid: Feature grid ``(h, w)``.

        Returns:
            The soft labels of frame ``t`` with the given objects blended in
            and its output ids with the given objects written over.
        """
        given = torch.where(
            torch.isin(mask, torch.tensor(ids, device=mask.device)), mask,
            torch.zeros_like(mask))
        members = ids if groups else [0] + ids
        labels = self._given_labels(given, members, channel_of, grid)
        channels = labels.new_zeros(len(channel_of), 1, 1)
        channels[[channel_of[obj] for obj in members]] = 1
        groups.append(_ObjectGroup(t, channels))
        if soft is None:
            return labels, given
        return self._overwrite(soft, labels), torch.where(
            given > 0, given, out)

    def _propagate(self, feat: Tensor, memory: ContextMemory,
                   groups: List[_ObjectGroup],
                   t: int) -> Optional[Tensor]:
        """Sum of the groups' predictions for frame ``t``, each restricted
        to its channels; None before the first group."""
        if not groups:
            return None
        contexts = [
            self.propagator.context_indices(group.start, t)
            for group in groups
        ]
        preds = self.propagator.propagate(feat, memory, contexts)
        return sum(group.channels * pred
                   for group, pred in zip(groups, preds))

    @staticmethod
    def _given_labels(given: Tensor, members: List[int],
                      channel_of: Dict[int, int], grid: torch.Size) -> Tensor:
        """One-hot ``(L, h, w)`` soft labels of a given ``(H, W)`` mask on
        the channels of ``members`` (ids, 0 for the background), resized
        bilinearly (``align_corners=True``)."""
        one_hot = given.new_zeros(len(channel_of), *given.shape,
                                  dtype=torch.float32)
        for obj in members:
            one_hot[channel_of[obj]] = (given == obj).float()
        return F.interpolate(
            one_hot[None], tuple(grid), mode='bilinear',
            align_corners=True)[0]

    @staticmethod
    def _overwrite(soft: Tensor, given: Tensor) -> Tensor:
        """Blend the given objects' labels ``m`` into ``soft`` by their
        foreground share ``s = sum(m)``: ``(1 - s) * soft + s * m``."""
        share = given.sum(0, keepdim=True)
        return (1 - share) * soft + share * given

    @staticmethod
    def _decode(soft: Tensor, label_ids: Tensor, size: tuple) -> Tensor:
        """``(H, W)`` ids of the argmax of ``(L, h, w)`` soft labels after
        bilinear upsampling (``align_corners=True``)."""
        up = F.interpolate(
            soft[None], size, mode='bilinear', align_corners=True)[0]
        return label_ids[up.argmax(0)]

    def _read_given(self, video: Tensor, data_sample: BaseDataElement,
                    name: str) -> tuple:
        """Check the given masks of a video and split them into groups.

        Returns:
            ``(given_frames, given_masks, object_ids, group_ids)``: the
            sorted given frames, their ``(K, H, W)`` masks on the video's
            device, all object ids, and per given frame the ids first given
            there.
        """
        if video.dim() != 4 or video.shape[1] != 3:
            raise ValueError(f'{name}: expected (T, 3, H, W) frames, got '
                             f'{tuple(video.shape)}')
        if 'given_masks' not in data_sample:
            raise KeyError(f'{name}: the data sample has no "given_masks"')
        if 'given_frames' not in data_sample.metainfo:
            raise KeyError(f'{name}: the metainfo has no "given_frames"')
        given_masks = data_sample.given_masks.to(video.device)
        given_frames = [int(t) for t in data_sample.metainfo['given_frames']]
        if given_masks.dim() != 3 or given_masks.shape[0] != len(
                given_frames) or given_masks.shape[1:] != video.shape[2:]:
            raise ValueError(
                f'{name}: given_masks {tuple(given_masks.shape)} must be '
                f'(K, H, W) with K = {len(given_frames)} given frames and '
                f'(H, W) = {tuple(video.shape[2:])}')
        if not given_frames or given_frames != sorted(set(given_frames)) or \
                given_frames[0] < 0 or given_frames[-1] >= video.shape[0]:
            raise ValueError(
                f'{name}: given_frames {given_frames} must be sorted, '
                f'distinct frame indices below {video.shape[0]}')
        listed = data_sample.metainfo.get('given_object_ids')
        group_ids, seen = [], set()
        for k, frame in enumerate(given_frames):
            present = [int(i) for i in torch.unique(given_masks[k]) if i > 0]
            ids = present if listed is None else [int(i) for i in listed[k]]
            if not set(ids) <= set(present):
                raise ValueError(
                    f'{name}: objects {sorted(set(ids) - set(present))} are '
                    f'listed at given frame {frame} but absent from its mask')
            new = sorted(set(ids) - seen)
            if not new:
                raise ValueError(f'{name}: the mask given at frame {frame} '
                                 'has no object that was not given before')
            group_ids.append(new)
            seen.update(new)
        object_ids = sorted(seen)
        if 'object_ids' in data_sample.metainfo and sorted(
                int(i) for i in data_sample.metainfo['object_ids']) != \
                object_ids:
            raise ValueError(
                f'{name}: object_ids {data_sample.metainfo["object_ids"]} do '
                f'not match the ids in the given masks {object_ids}')
        if object_ids[-1] > 255:
            raise ValueError(f'{name}: object ids must be < 256 for uint8 '
                             f'masks, got {object_ids[-1]}')
        return given_frames, given_masks, object_ids, group_ids

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Adapt a checkpoint before it is loaded.

        A backbone-only file (bare ResNet keys) is moved under
        ``backbone.``; entries the model does not have (the EMA target,
        neck, head, layers that are not built) are dropped; a checkpoint
        without ``extra_backbone.*`` keeps the extra encoder as built.

        Raises:
            KeyError: Backbone parameters are missing from the checkpoint.
        """
        own = self.state_dict(prefix=prefix, keep_vars=True)
        backbone = prefix + 'backbone.'
        keys = [k for k in state_dict if k.startswith(prefix)]
        if not any(k.startswith(backbone) for k in keys):
            for key in keys:
                if is_resnet_key(key[len(prefix):]):
                    state_dict[backbone + key[len(prefix):]] = \
                        state_dict.pop(key)
        missing = [
            k for k in own if k.startswith(backbone) and k not in state_dict
            and not k.endswith(_IGNORED_KEY_SUFFIX)
        ]
        if missing:
            raise KeyError(
                f'the checkpoint has no weights for {len(missing)} backbone '
                f'parameters, e.g. {missing[:5]}; expected an mmhvc training '
                'checkpoint (backbone.* keys) or a backbone-only file')
        extra = prefix + 'extra_backbone.'
        if not any(k.startswith(extra) for k in state_dict):
            state_dict.update({
                k: v.detach()
                for k, v in own.items() if k.startswith(extra)
            })
        unused = [
            k for k in state_dict if k.startswith(prefix) and k not in own
        ]
        for key in unused:
            del state_dict[key]
        if unused:
            print_log(
                f'{len(unused)} checkpoint entries are not used by the '
                f'propagation model (e.g. {unused[:3]})',
                logger='current')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
