import json
from typing import Dict, List, Optional

from mmengine import fileio

from mmhvc.registry import DATASETS
from .base_video_dataset import BaseVideoDataset


@DATASETS.register_module()
class YouTubeVOSDataset(BaseVideoDataset):
    """YouTube-VOS 2018 / 2019 semi-supervised video object segmentation.

    One item per video. The layout under ``data_root`` (validation set)::

        valid_all_frames/JPEGImages/<video>/00000.jpg 00001.jpg ...
        valid/JPEGImages/<video>/00000.jpg 00005.jpg ...
        valid/Annotations/<video>/<stem>.png   (indexed PNGs, only at the
                                                frames where objects first
                                                appear)
        valid/meta.json

    ``meta.json`` maps ``videos -> <video> -> objects -> <id> ->
    {category, frames}``, ``frames`` being the stems where the object is
    evaluated (every fifth frame). ``valid/JPEGImages`` holds only those
    frames; ``valid_all_frames/JPEGImages`` holds every frame of the videos,
    with the same stems for the annotated ones.

    As in the reference protocol, the videos are propagated through all
    their frames (``all_frames=True``, the default), and only the frames
    that meta.json lists are written for the server (``eval_frames``).
    ``all_frames=False`` propagates on the sparse frames of
    ``valid/JPEGImages`` instead, which stretches a context of N frames over
    5 N real frames: a different protocol, whose numbers are not comparable
    with published ones.

    An object's first listed frame is where its mask is given. Objects may
    first appear after frame 0, so a video can have several given frames; at
    each, only the objects first appearing there are given. There is no
    ground truth: predictions are submitted to the evaluation server for the
    stems in ``eval_frames``.

    Each item holds ``seq_name``, ``frame_names`` (T stems),
    ``frame_paths``, ``given_frames`` (sorted distinct first-appearance frame
    indices), ``given_object_ids`` (list[list[int]], the objects first
    appearing at each given frame), ``given_ann_paths``, ``gt_ann_paths``
    (None), ``single_object`` (False), ``eval_frames`` (stems listed in
    meta.json, union over objects, in frame order) and
    ``object_categories`` (dict[int, str]).

    Args:
        data_root: YouTube-VOS root folder.
        split: The split folder, ``'valid'`` or ``'test'``; the defaults of
            the three paths below are built from it.
        all_frames: Propagate through every frame
            (``<split>_all_frames/JPEGImages``); when False, through the
            frames of ``<split>/JPEGImages`` only. Ignored when
            ``frames_dir`` is given.
        ann_file: The meta file, relative to ``data_root`` unless absolute.
            Defaults to ``<split>/meta.json``.
        frames_dir: Frame folder, relative to ``data_root`` unless absolute.
            Defaults to the folder that ``all_frames`` selects.
        ann_dir: Annotation folder, relative to ``data_root`` unless
            absolute. Defaults to ``<split>/Annotations``.
        **kwargs: Other arguments of :class:`BaseVideoDataset`
            (``img_suffix``, ``'.jpg'`` by default, ``backend_args``,
            ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='YouTube-VOS')
    ROOT_LAYOUT = ('the frames, annotations and meta.json of a split '
                   '(valid/ and valid_all_frames/ by default)')
    LIST_FILE = 'meta file'

    def __init__(self,
                 data_root: str,
                 split: str = 'valid',
                 all_frames: bool = True,
                 ann_file: Optional[str] = None,
                 frames_dir: Optional[str] = None,
                 ann_dir: Optional[str] = None,
                 **kwargs) -> None:
        self.all_frames = all_frames
        self.frames_dir_given = frames_dir is not None
        if frames_dir is None:
            frames_dir = (f'{split}_all_frames/JPEGImages'
                          if all_frames else f'{split}/JPEGImages')
        super().__init__(
            data_root=data_root,
            ann_file=ann_file or f'{split}/meta.json',
            data_prefix=dict(
                img_path=frames_dir,
                ann_path=ann_dir or f'{split}/Annotations'),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read ``meta.json`` and list every video's frames and masks."""
        self.require_file(self.ann_file, 'YouTube-VOS meta file')
        self._check_frames_dir()
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        try:
            videos = json.loads(text)['videos']
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(
                f'{self.ann_file} is not a YouTube-VOS meta file (expected a '
                f'JSON object with a "videos" mapping): {e!r}') from e
        if not isinstance(videos, dict) or not videos:
            raise ValueError(f'{self.ann_file}: "videos" must be a non-empty '
                             'mapping')
        return [
            self._load_video(name, videos[name]) for name in sorted(videos)
        ]

    def _load_video(self, name: str, video: dict) -> dict:
        """List one video's frames and first-appearance annotations."""
        where = f'{self.ann_file}, video "{name}"'
        objects = video.get('objects') if isinstance(video, dict) else None
        if not isinstance(objects, dict) or not objects:
            raise ValueError(f'{where}: no "objects" listed')
        frame_dir = self.join(self.data_prefix['img_path'], name)
        stems = self.list_frames(frame_dir, where)
        index = {stem: i for i, stem in enumerate(stems)}

        first_frame: Dict[int, int] = {}
        categories: Dict[int, str] = {}
        eval_stems = set()
        for key, obj in objects.items():
            obj_id = self._object_id(key, where)
            frames = obj.get('frames') if isinstance(obj, dict) else None
            if not isinstance(frames, list) or not frames:
                raise ValueError(f'{where}, object {key}: no "frames" listed')
            for stem in frames:
                if stem not in index:
                    raise FileNotFoundError(
                        f'{where}, object {key}: frame "{stem}" is not in '
                        f'{frame_dir}')
            first_frame[obj_id] = min(index[stem] for stem in frames)
            categories[obj_id] = obj.get('category', '')
            eval_stems.update(frames)

        given_frames = sorted(set(first_frame.values()))
        given_ann_paths = []
        for frame in given_frames:
            path = self.join(self.data_prefix['ann_path'], name,
                             stems[frame] + '.png')
            if not fileio.exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'{where}: annotation of frame "{stems[frame]}", where '
                    f'objects first appear, not found: {path}')
            given_ann_paths.append(path)
        return self.sequence_info(
            name,
            frame_dir,
            stems,
            given_frames=given_frames,
            given_object_ids=[
                sorted(i for i, f in first_frame.items() if f == frame)
                for frame in given_frames
            ],
            given_ann_paths=given_ann_paths,
            gt_ann_paths=None,
            single_object=False,
            eval_frames=sorted(eval_stems, key=index.__getitem__),
            object_categories=dict(sorted(categories.items())))

    def _check_frames_dir(self) -> None:
        """Name the missing frame folder, and the choice of protocol when it
        is the all-frames folder of the default."""
        frames_dir = self.data_prefix['img_path']
        if fileio.isdir(frames_dir, backend_args=self.backend_args):
            return
        if self.all_frames and not self.frames_dir_given:
            raise FileNotFoundError(
                f'YouTube-VOS all-frames folder not found: {frames_dir}. The '
                'protocol propagates through every frame of the videos '
                '(valid_all_frames.zip of the release, see '
                f'{self.DOCS}); set all_frames=False to propagate on the '
                'every-fifth frames of the sparse JPEGImages folder instead, '
                'a different protocol')
        raise FileNotFoundError(
            f'YouTube-VOS frame folder not found: {frames_dir}')

    @staticmethod
    def _object_id(key: str, where: str) -> int:
        """Parse an object key of meta.json into an id in [1, 254]."""
        try:
            obj_id = int(key)
        except ValueError:
            obj_id = -1
        if not 1 <= obj_id <= 254:
            raise ValueError(f'{where}: object key "{key}" is not an id in '
                             '[1, 254]')
        return obj_id
