"""VIP (Video Instance-level Parsing) human part propagation."""
from functools import partial
from typing import List, Optional

from mmengine import fileio
from mmengine.dataset import BaseDataset

from mmhvc.registry import DATASETS
from .vos_utils import list_stems, read_name_list

#: The 20 VIP category ids, 0 .. 19.
VIP_CLASSES = ('background', 'hat', 'hair', 'sun-glasses', 'upper-clothes',
               'dress', 'coat', 'socks', 'pants', 'gloves', 'scarf', 'skirt',
               'torso-skin', 'face', 'right-arm', 'left-arm', 'right-leg',
               'left-leg', 'right-shoe', 'left-shoe')


@DATASETS.register_module()
class VIPDataset(BaseDataset):
    """VIP part propagation: one item per video.

    The official ``VIP_Fine`` layout under ``data_root``::

        Images/<video>/<frame>.jpg                   (annotated frames)
        Annotations/Category_ids/<video>/<frame>.png (class id per pixel)
        lists/val_videos.txt                         (one video a line)

    Every frame carries a label map with 20 classes: 0 background and 19
    human parts (see ``METAINFO['classes']``); 255 marks unlabelled pixels.
    Each part class is propagated like a DAVIS object from the first frame
    (see :class:`~mmhvc.datasets.transforms.LoadPartAnnotations`). Frames
    and label maps are read later, by ``LoadVideoFrames`` and
    ``LoadPartAnnotations``.

    Each item holds ``seq_name``, ``frame_names`` (T stems), ``frame_paths``,
    ``ann_paths`` (T label maps) and ``split``.

    Args:
        data_root: ``VIP_Fine`` root folder.
        ann_file: Video list, relative to ``data_root`` unless absolute.
        data_prefix: Folders of the frames (``img_path``) and label maps
            (``ann_path``), relative to ``data_root``.
        split: Name of the split, used in result file names.
        img_suffix: File ending of the frames.
        ann_suffix: File ending of the label maps.
        backend_args: Arguments of the MMEngine file backend.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    METAINFO = dict(dataset_name='VIP', classes=VIP_CLASSES)

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'lists/val_videos.txt',
                 data_prefix: dict = dict(
                     img_path='Images', ann_path='Annotations/Category_ids'),
                 split: str = 'val',
                 img_suffix: str = '.jpg',
                 ann_suffix: str = '.png',
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        self.split = split
        self.img_suffix = img_suffix
        self.ann_suffix = ann_suffix
        self.backend_args = backend_args
        if not data_root or not fileio.isdir(
                data_root, backend_args=backend_args):
            raise FileNotFoundError(
                f'VIP data_root not found: "{data_root}". It must hold '
                'Images/, Annotations/Category_ids/ and lists/ '
                '(see docs/test.md).')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(data_prefix),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the video list and list every video's frames and labels."""
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'VIP video list not found: {self.ann_file}')
        names = read_name_list(self.ann_file, 'VIP video list',
                               self.backend_args)
        return [self._load_video(name) for name in names]

    def _load_video(self, name: str) -> dict:
        """List one video's frames and their label maps."""
        join = partial(fileio.join_path, backend_args=self.backend_args)
        frame_dir = join(self.data_prefix['img_path'], name)
        ann_dir = join(self.data_prefix['ann_path'], name)
        stems = list_stems(frame_dir, self.img_suffix, self.backend_args)
        if not stems:
            raise FileNotFoundError(
                f'Video "{name}" listed in {self.ann_file} has no '
                f'"*{self.img_suffix}" frames in {frame_dir}')
        ann_stems = set(
            list_stems(ann_dir, self.ann_suffix, self.backend_args))
        missing = [stem for stem in stems if stem not in ann_stems]
        if missing:
            raise FileNotFoundError(
                f'Frame {join(frame_dir, missing[0] + self.img_suffix)} has '
                f'no label map {join(ann_dir, missing[0] + self.ann_suffix)} '
                f'({len(missing)} of {len(stems)} frames of "{name}" lack '
                'one)')
        orphans = sorted(ann_stems - set(stems))
        if orphans:
            raise ValueError(
                f'Label map {join(ann_dir, orphans[0] + self.ann_suffix)} '
                f'has no matching frame in {frame_dir}')
        return dict(
            seq_name=name,
            frame_names=stems,
            frame_paths=[join(frame_dir, s + self.img_suffix) for s in stems],
            ann_paths=[join(ann_dir, s + self.ann_suffix) for s in stems],
            split=self.split)
