"""VIP (Video Instance-level Parsing) human part propagation."""
from typing import List, Tuple

from mmhvc.registry import DATASETS
from .base_video_dataset import BaseVideoDataset

#: The 20 VIP category ids, 0 .. 19.
VIP_CLASSES = ('background', 'hat', 'hair', 'sun-glasses', 'upper-clothes',
               'dress', 'coat', 'socks', 'pants', 'gloves', 'scarf', 'skirt',
               'torso-skin', 'face', 'right-arm', 'left-arm', 'right-leg',
               'left-leg', 'right-shoe', 'left-shoe')


@DATASETS.register_module()
class VIPDataset(BaseVideoDataset):
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
        ann_suffix: File ending of the label maps.
        **kwargs: Other arguments of :class:`BaseVideoDataset`
            (``img_suffix``, ``'.jpg'`` by default, ``backend_args``,
            ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='VIP', classes=VIP_CLASSES)
    ROOT_LAYOUT = 'Images/, Annotations/Category_ids/ and lists/'
    DOCS = 'docs/test.md'
    LIST_FILE = 'video list'

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'lists/val_videos.txt',
                 data_prefix: dict = dict(
                     img_path='Images', ann_path='Annotations/Category_ids'),
                 split: str = 'val',
                 ann_suffix: str = '.png',
                 **kwargs) -> None:
        self.split = split
        self.ann_suffix = ann_suffix
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix,
            **kwargs)

    def load_sequence(self, name: str) -> dict:
        """List one video's frames and their label maps."""
        frame_dir = self.join(self.data_prefix['img_path'], name)
        ann_dir = self.join(self.data_prefix['ann_path'], name)
        stems = self.list_frames(
            frame_dir, f'Video "{name}" listed in {self.ann_file}')
        ann_stems = self.list_annotations(ann_dir, self.ann_suffix, stems,
                                          frame_dir, 'Label map')
        missing = [stem for stem in stems if stem not in ann_stems]
        if missing:
            raise FileNotFoundError(
                f'Frame {self.join(frame_dir, missing[0] + self.img_suffix)} '
                'has no label map '
                f'{self.join(ann_dir, missing[0] + self.ann_suffix)} '
                f'({len(missing)} of {len(stems)} frames of "{name}" lack '
                'one)')
        return self.sequence_info(
            name,
            frame_dir,
            stems,
            ann_paths=[self.join(ann_dir, s + self.ann_suffix) for s in stems],
            split=self.split)

    def annotation_files(self, info: dict) -> Tuple[List[str], List[str]]:
        """The first label map, decoded, and the others' headers, checked
        against the frames (see :meth:`BaseVideoDataset.check_integrity`)."""
        return info['ann_paths'][:1], info['ann_paths'][1:]
