import json
from typing import Dict, List

from mmengine import fileio

from mmhvc.registry import DATASETS
from .base_video_dataset import BaseVideoDataset


@DATASETS.register_module()
class YouTubeVOSDataset(BaseVideoDataset):
    """YouTube-VOS 2018 / 2019 semi-supervised video object segmentation.

    One item per video. The layout under ``data_root`` (validation set)::

        valid/JPEGImages/<video>/00000.jpg 00005.jpg ...
        valid/Annotations/<video>/<stem>.png   (indexed PNGs, only at the
                                                frames where objects first
                                                appear)
        valid/meta.json

    ``meta.json`` maps ``videos -> <video> -> objects -> <id> ->
    {category, frames}``, ``frames`` being the stems where the object is
    evaluated. ``valid/JPEGImages`` holds every fifth frame of the videos;
    ``valid_all_frames/JPEGImages`` (``frames_dir``) holds all of them, with
    the same stems for the annotated frames.

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
        ann_file: The meta file, relative to ``data_root`` unless absolute.
        frames_dir: Frame folder, relative to ``data_root`` unless absolute.
        ann_dir: Annotation folder, relative to ``data_root`` unless
            absolute.
        **kwargs: Other arguments of :class:`BaseVideoDataset`
            (``img_suffix``, ``'.jpg'`` by default, ``backend_args``,
            ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='YouTube-VOS')
    ROOT_LAYOUT = ('the frames, annotations and meta.json of a split '
                   '(valid/ by default)')
    LIST_FILE = 'meta file'

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'valid/meta.json',
                 frames_dir: str = 'valid/JPEGImages',
                 ann_dir: str = 'valid/Annotations',
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img_path=frames_dir, ann_path=ann_dir),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read ``meta.json`` and list every video's frames and masks."""
        self.require_file(self.ann_file, 'YouTube-VOS meta file')
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
