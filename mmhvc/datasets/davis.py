from typing import Union

from mmhvc.registry import DATASETS
from .base_video_dataset import BaseVideoDataset


@DATASETS.register_module()
class DAVISDataset(BaseVideoDataset):
    """DAVIS 2016 / 2017 semi-supervised video object segmentation.

    One item per sequence. The official layout under ``data_root``::

        JPEGImages/<resolution>/<seq>/00000.jpg ...
        Annotations/<resolution>/<seq>/00000.png ...   (indexed PNGs)
        ImageSets/<year>/<split>.txt                   (one sequence a line)

    ``resolution`` is ``'480p'`` or ``'Full-Resolution'``. The ImageSets of
    both years index the same Annotations folder of the DAVIS 2017 release,
    where every sequence is annotated with one id per object. DAVIS-2016 is
    evaluated as the reference protocol does: the objects are propagated
    one label channel each, like DAVIS-2017, and merged into one
    foreground only when scoring (``DAVISMetric(merge_objects=True)``).
    ``single_object=True`` instead merges the annotations into id 1 when
    they are read (void 255 kept), so one summed foreground is propagated:
    a different protocol, whose numbers are not comparable with published
    DAVIS-2016 results.

    The first frame's annotation is the given mask. When every frame has an
    annotation (train, val) the items also carry ground truth; the test-dev
    and test-challenge releases only hold first-frame annotations, so their
    items have none. Frames and masks are read later, by
    ``LoadVideoFrames`` and ``LoadVideoAnnotations``.

    Each item holds ``seq_name``, ``frame_names`` (T stems), ``frame_paths``,
    ``given_frames`` (``[0]``), ``given_ann_paths`` (one path),
    ``gt_ann_paths`` (T paths, or None), ``single_object``, ``year``,
    ``split`` and ``resolution``.

    Args:
        data_root: DAVIS root folder.
        year: ``'2017'`` (multi-object) or ``'2016'`` (single-object).
        split: Name of the split file in ``ImageSets/<year>``, e.g.
            ``'train'``, ``'val'``, ``'test-dev'``, ``'test-challenge'``.
        resolution: Sub-folder of JPEGImages and Annotations.
        single_object: Merge all objects into id 1 before propagation
            (see above). Defaults to False for both years.
        ann_file: Split file, relative to ``data_root`` unless absolute.
            Defaults to ``ImageSets/<year>/<split>.txt``.
        **kwargs: Other arguments of :class:`BaseVideoDataset`
            (``img_suffix``, ``'.jpg'`` by default, ``backend_args``,
            ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='DAVIS')
    ROOT_LAYOUT = 'JPEGImages/, Annotations/ and ImageSets/'
    LIST_FILE = 'split file'

    def __init__(self,
                 data_root: str,
                 year: Union[str, int] = '2017',
                 split: str = 'val',
                 resolution: str = '480p',
                 single_object: bool = False,
                 ann_file: str = '',
                 **kwargs) -> None:
        self.year = str(year)
        if self.year not in ('2016', '2017'):
            raise ValueError(
                f'DAVIS year must be "2016" or "2017", got {year}')
        self.split = split
        self.resolution = resolution
        self.single_object = bool(single_object)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file or f'ImageSets/{self.year}/{split}.txt',
            data_prefix=dict(
                img_path=f'JPEGImages/{resolution}',
                ann_path=f'Annotations/{resolution}'),
            **kwargs)

    def load_sequence(self, name: str) -> dict:
        """List one sequence's frames and annotations."""
        frame_dir = self.join(self.data_prefix['img_path'], name)
        ann_dir = self.join(self.data_prefix['ann_path'], name)
        stems = self.list_frames(
            frame_dir, f'Sequence "{name}" listed in {self.ann_file}')
        ann_stems = self.list_annotations(ann_dir, '.png', stems, frame_dir,
                                          'Annotation')
        ann_paths = [self.join(ann_dir, stem + '.png') for stem in stems]
        if stems[0] not in ann_stems:
            raise FileNotFoundError(
                f'First-frame annotation of sequence "{name}" not found: '
                f'{ann_paths[0]}')
        if len(ann_stems) == len(stems):
            gt_ann_paths = ann_paths
        elif len(ann_stems) == 1:
            gt_ann_paths = None
        else:
            missing = next(path for stem, path in zip(stems, ann_paths)
                           if stem not in ann_stems)
            raise FileNotFoundError(
                f'Sequence "{name}" has annotations for {len(ann_stems)} of '
                f'{len(stems)} frames; expected either the first frame only '
                f'or every frame. Missing: {missing}')
        return self.sequence_info(
            name,
            frame_dir,
            stems,
            given_frames=[0],
            given_ann_paths=[ann_paths[0]],
            gt_ann_paths=gt_ann_paths,
            single_object=self.single_object,
            year=self.year,
            split=self.split,
            resolution=self.resolution)
