"""The VOST dataset: videos annotated on a subset of their frames."""
from typing import List, Tuple

from mmengine import fileio

from mmhvc.registry import DATASETS
from .base_video_dataset import BaseVideoDataset

FRAMES_10FPS = 'JPEGImages_10fps'
FRAMES_FULL_RATE = 'JPEGImages'


@DATASETS.register_module()
class VOSTDataset(BaseVideoDataset):
    """VOST: video object segmentation under transformations.

    One item per video. The layout under ``data_root``::

        JPEGImages/<video>/<frame>.jpg          (every frame)
        JPEGImages_10fps/<video>/<frame>.jpg    (the frames at 10 fps)
        Annotations/<video>/<frame>.png         (indexed PNGs, on a subset
                                                 of the frames; 255 void)
        ImageSets/train.txt, val.txt            (one video a line)

    The frames keep the names of the full-rate folder, and each annotation
    is named like the frame it annotates. As the benchmark is run, a video
    is propagated through its 10 fps frames (``full_rate=False``, the
    default), from its first annotated frame on, whose mask is given; the
    frames before it are left out. Objects are those of the first
    annotation; an object that appears only later (e.g. a piece split off)
    is neither given nor scored. ``full_rate=True`` propagates through
    every frame of ``JPEGImages`` instead: a different protocol, whose
    numbers are not comparable with published VOST results.

    Only the annotated frames are scored (``VOSTMetric``); each must be one
    of the propagated frames. Frames and masks are read later, by
    ``LoadVideoFrames``, ``LoadVideoAnnotations`` (the given mask) and
    ``LoadSparseAnnotations`` (the ground truth).

    Each item holds ``seq_name``, ``frame_names`` (T stems, from the first
    annotated frame on), ``frame_paths``, ``given_frames`` (``[0]``),
    ``given_ann_paths`` (one path), ``gt_ann_paths`` (None: not every frame
    is annotated), ``gt_frames`` (the sorted indices of the K annotated
    frames), ``gt_frame_ann_paths`` (their K annotations),
    ``single_object`` (False) and ``split``.

    Args:
        data_root: VOST root folder.
        split: Name of the split file in ``ImageSets``, e.g. ``'val'``.
        full_rate: Propagate through every frame (``JPEGImages``) instead
            of the 10 fps frames (``JPEGImages_10fps``).
        ann_file: Split file, relative to ``data_root`` unless absolute.
            Defaults to ``ImageSets/<split>.txt``.
        **kwargs: Other arguments of :class:`BaseVideoDataset`
            (``img_suffix``, ``'.jpg'`` by default, ``backend_args``,
            ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='VOST')
    ROOT_LAYOUT = f'{FRAMES_10FPS}/, Annotations/ and ImageSets/'
    LIST_FILE = 'split file'

    def __init__(self,
                 data_root: str,
                 split: str = 'val',
                 full_rate: bool = False,
                 ann_file: str = '',
                 **kwargs) -> None:
        self.split = split
        self.full_rate = bool(full_rate)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file or f'ImageSets/{split}.txt',
            data_prefix=dict(
                img_path=FRAMES_FULL_RATE if full_rate else FRAMES_10FPS,
                ann_path='Annotations'),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Check the frame folder, then load every listed video."""
        frames_dir = self.data_prefix['img_path']
        if not fileio.isdir(frames_dir, backend_args=self.backend_args):
            if self.full_rate:
                raise FileNotFoundError(
                    f'VOST frame folder not found: {frames_dir}')
            raise FileNotFoundError(
                f'VOST 10 fps frame folder not found: {frames_dir}. The '
                'benchmark propagates through the frames of '
                f'{FRAMES_10FPS} (see {self.DOCS}); full_rate=True '
                f'propagates through every frame of {FRAMES_FULL_RATE} '
                'instead, a different protocol')
        return super().load_data_list()

    def load_sequence(self, name: str) -> dict:
        """List one video's frames, from its first annotation on, and the
        annotations of its frames."""
        frame_dir = self.join(self.data_prefix['img_path'], name)
        ann_dir = self.join(self.data_prefix['ann_path'], name)
        stems = self.list_frames(
            frame_dir, f'Video "{name}" listed in {self.ann_file}')
        ann_stems = self.list_stems(ann_dir, '.png')
        if not ann_stems:
            raise FileNotFoundError(
                f'Video "{name}" listed in {self.ann_file}: no "*.png" '
                f'annotations in {ann_dir}')
        index = {stem: i for i, stem in enumerate(stems)}
        for stem in ann_stems:
            if stem not in index:
                rate = 'full-rate' if self.full_rate else '10 fps'
                raise FileNotFoundError(
                    f'Annotation {self.join(ann_dir, stem + ".png")} of video '
                    f'"{name}" has no {rate} frame: '
                    f'{self.join(frame_dir, stem + self.img_suffix)} not '
                    'found')
        first = index[ann_stems[0]]
        ann_paths = [self.join(ann_dir, stem + '.png') for stem in ann_stems]
        return self.sequence_info(
            name,
            frame_dir,
            stems[first:],
            given_frames=[0],
            given_ann_paths=ann_paths[:1],
            gt_ann_paths=None,
            gt_frames=[index[stem] - first for stem in ann_stems],
            gt_frame_ann_paths=ann_paths,
            single_object=False,
            split=self.split)

    def annotation_files(self, info: dict) -> Tuple[List[str], List[str]]:
        """The given mask, to decode, and the other annotations, whose
        headers are checked."""
        decoded = list(info['given_ann_paths'])
        return decoded, [
            path for path in info['gt_frame_ann_paths'] if path not in decoded
        ]
