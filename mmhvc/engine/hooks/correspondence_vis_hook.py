"""Pictures of HVC's training correspondences, logged to the visualizer."""
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import Tensor, nn

from mmhvc.fileio import read_image
from mmhvc.models.losses.hybrid_correspondence_loss import \
    coord_positive_mask
from mmhvc.registry import HOOKS
from mmhvc.validation import check_at_least
from mmhvc.visualization import (add_title, draw_crop_pair, draw_flow_arrows,
                                 flow_color_wheel, flow_to_rgb, hstack,
                                 select_positive_pairs, upsample_cells,
                                 vstack)


@HOOKS.register_module()
class CorrespondenceVisualizationHook(Hook):
    """Every ``interval`` training iterations, log what the HVC loss sees.

    Two images go to ``runner.visualizer.add_image`` (so to every
    configured backend: files under ``<log_dir>/vis_data/vis_image`` with
    ``LocalVisBackend``, TensorBoard with ``TensorboardVisBackend``), with
    the iteration number (1-based) as step:

    - ``train_crop_pairs``: for the first ``num_samples`` samples of the
      batch, one titled row ``[source image with both crop boxes | view 1 |
      view 2]``; ``num_pairs`` positive pairs (the loss's positive mask,
      evenly spread over the overlap) are joined by lines from view 1 to
      view 2 and marked in the source image, and the title gives the
      number of positive pairs of the sample.
    - ``train_pseudo_flow``: the flow layer's forward field
      ``flow(p_1, z_2)`` of the first sample over view 1 and its backward
      field ``flow(z_2, p_1)`` over view 2, as arrows and colour-coded
      (with the colour key).

    What is drawn comes from the training step itself, so the hook neither
    runs the model nor consumes random numbers, and training gives the same
    result with and without it: the views are the uint8 images of
    ``data_batch`` (BGR, as loaded), the crop boxes come from its data
    samples, the source image is read from the sample's ``img_path``, and
    the two fields are copied (detached, on the CPU) by a forward hook on
    the flow layer that is registered in ``before_train_iter`` only for the
    iterations that are drawn and removed in ``after_train_iter``. They are
    exactly the fields of that step's loss, with the flow layer's
    BatchNorm in training mode (batch statistics), as the loss used them;
    the running statistics are untouched by the hook. Only the main
    process draws. Without the hook in ``custom_hooks`` nothing of this
    runs.

    Args:
        interval: Draw every ``interval`` iterations.
        num_samples: Samples of the batch drawn as crop pairs.
        num_pairs: Positive pairs drawn per sample.
        flow_module: Dotted path of the flow layer in the model; its first
            two calls in a step are taken as the forward and backward
            field. None skips the flow picture.
        pos_radius: Positive radius; None reads it from the model's
            ``head.loss_module.pos_radius``.
        feat_stride: Output stride of the encoder, used for the feature
            grid of the crop pairs only when no field was recorded
            (``flow_module`` None); otherwise the grid of the recorded
            field is used.
        display_size: Views are drawn resized (bilinear) to this many
            pixels per side, the source image to their height; None keeps
            the crop size.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 num_samples: int = 2,
                 num_pairs: int = 8,
                 flow_module: Optional[str] = 'head.flow',
                 pos_radius: Optional[float] = None,
                 feat_stride: int = 8,
                 display_size: Optional[int] = 256) -> None:
        self.interval = check_at_least('interval', interval, 1)
        self.num_samples = check_at_least('num_samples', num_samples, 1)
        self.num_pairs = check_at_least('num_pairs', num_pairs, 0)
        self.flow_module = flow_module
        self.pos_radius = pos_radius
        self.feat_stride = check_at_least('feat_stride', feat_stride, 1)
        if display_size is not None:
            check_at_least('display_size', display_size, 1)
        self.display_size = display_size
        self._handle = None
        self._fields: List[Tensor] = []

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _record_field(self, module: nn.Module, args: tuple,
                      output: Tensor) -> None:
        """Forward hook: keep the first sample of the first two calls."""
        if len(self._fields) < 2:
            self._fields.append(output[0].detach().float().cpu())

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        if self.flow_module is None or not is_main_process() or \
                not self.every_n_train_iters(runner, self.interval):
            return
        try:
            layer = self._model(runner).get_submodule(self.flow_module)
        except AttributeError:
            print_log(
                f'CorrespondenceVisualizationHook: the model has no '
                f'"{self.flow_module}"; the pseudo-flow is not drawn',
                logger='current')
            self.flow_module = None
            return
        self._fields = []
        self._handle = layer.register_forward_hook(self._record_field)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not is_main_process() or not self.every_n_train_iters(
                runner, self.interval):
            return
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        if data_batch is None:
            return
        step = runner.iter + 1
        fields, self._fields = self._fields, []
        visualizer = runner.visualizer
        feat_size = tuple(fields[0].shape[1:]) if fields else None
        visualizer.add_image(
            'train_crop_pairs',
            self.draw_crop_pairs(runner, data_batch, feat_size), step)
        if len(fields) == 2:
            views = self._views(data_batch['inputs'][0])
            visualizer.add_image('train_pseudo_flow',
                                 self.draw_flow(views, fields), step)

    def _views(self, view_pair: Tensor) -> List[np.ndarray]:
        """Two RGB ``(D, D, 3)`` display images of a uint8 ``(2, 3, S, S)``
        BGR view pair (``D = display_size``, or S)."""
        if not isinstance(view_pair, Tensor) or view_pair.dim() != 4 or \
                view_pair.shape[:2] != (2, 3):
            raise ValueError(
                'CorrespondenceVisualizationHook expects data_batch inputs '
                'of (2, 3, S, S) uint8 view pairs, got '
                f'{getattr(view_pair, "shape", type(view_pair))}')
        pair = view_pair.detach().cpu().flip(1).permute(0, 2, 3, 1)
        views = [
            np.ascontiguousarray(v.numpy().astype(np.uint8)) for v in pair
        ]
        if self.display_size is None:
            return views
        size = (self.display_size, self.display_size)
        return [
            cv2.resize(v, size, interpolation=cv2.INTER_LINEAR) for v in views
        ]

    def _radius(self, runner) -> float:
        if self.pos_radius is not None:
            return self.pos_radius
        head = getattr(self._model(runner), 'head', None)
        radius = getattr(
            getattr(head, 'loss_module', None), 'pos_radius', None)
        if radius is None:
            raise AttributeError(
                'CorrespondenceVisualizationHook: set pos_radius; the model '
                'has no head.loss_module.pos_radius')
        return float(radius)

    def draw_crop_pairs(self, runner, data_batch: dict,
                        feat_size: Optional[Sequence[int]]) -> np.ndarray:
        """Rows of source image, view 1 and view 2 of the first samples.

        ``feat_size`` is the ``(h, w)`` feature grid of the loss (from the
        recorded fields); None derives it from ``feat_stride``.
        """
        rows = []
        samples = data_batch['data_samples'][:self.num_samples]
        for k, sample in enumerate(samples):
            views = self._views(data_batch['inputs'][k])
            if 'img_path' not in sample.metainfo:
                raise KeyError('CorrespondenceVisualizationHook: data sample '
                               f'{k} has no "img_path" metainfo')
            source = read_image(sample.metainfo['img_path'])[..., ::-1]
            boxes = torch.as_tensor(sample.crop_boxes).detach().cpu()
            crop = data_batch['inputs'][k].shape[2:]
            grid = tuple(feat_size) if feat_size is not None else (
                max(1, -(-crop[0] // self.feat_stride)),
                max(1, -(-crop[1] // self.feat_stride)))
            radius = self._radius(runner)
            pairs = select_positive_pairs(boxes, grid, radius, self.num_pairs)
            num_pos = int(
                coord_positive_mask(boxes[:1].float(), boxes[1:].float(),
                                    grid, radius).sum())
            row = draw_crop_pair(
                np.ascontiguousarray(source), views, boxes, pairs, grid)
            rows.append(
                add_title(
                    row, f'{osp.basename(sample.metainfo["img_path"])}: '
                    f'view 1 red box, view 2 blue box; {num_pos} positive '
                    f'pairs at radius {radius:g}, {len(pairs)} drawn'))
        return vstack(rows)

    def draw_flow(self, views: Sequence[np.ndarray],
                  fields: Sequence[Tensor]) -> np.ndarray:
        """``[view 1 + forward arrows | forward colours | view 2 + backward
        arrows | backward colours | colour key]`` under a title."""
        panels = []
        names = ('forward', 'backward')
        for view, field, name in zip(views, fields, names):
            panels.append(add_title(draw_flow_arrows(view, field), name))
            panels.append(
                add_title(
                    upsample_cells(flow_to_rgb(field), view.shape[:2]),
                    f'{name} colours'))
        key = max(16, views[0].shape[0] // 3)
        panels.append(add_title(flow_color_wheel(key), 'key'))
        return add_title(
            hstack(panels), 'sample 0: forward flow(p1, z2) on view 1, '
            'backward flow(z2, p1) on view 2')
        return hstack(panels)
