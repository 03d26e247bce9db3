"""Frames of unlabelled videos, each frame one training image."""
import logging
from typing import Dict, List

import mmengine.fileio as fileio
from mmengine.logging import print_log

from mmhvc.registry import DATASETS
from .static_image import StaticImageDataset


@DATASETS.register_module()
class VideoFrameDataset(StaticImageDataset):
    """All frames of a folder of video folders, as independent images.

    The image folder ``data_root / data_prefix['img_path']`` holds one
    sub-folder per video with that video's frames directly inside, e.g.
    YouTube-VOS ``train_all_frames/JPEGImages/<video>/<frame>.jpg``. Without
    ``ann_file`` every non-hidden sub-folder is a video (sorted by name);
    with ``ann_file`` each non-blank line names one video folder. Frames are
    sorted by file name. Folders without frames are skipped with a warning
    when scanned, and are an error when listed in ``ann_file``.

    Every frame is one item ``dict(img_path, video_name, frame_idx)``; each
    sample is processed like a still image (two crop views of one frame).
    Drawing at most N frames per video each epoch, as the paper does, is
    the job of :class:`VideoFrameSampler`, which reads the video grouping
    from :meth:`video_frame_indices`; with ``DefaultSampler`` every frame is
    used every epoch.

    Args:
        data_root: Root folder of the data set.
        data_prefix: ``dict(img_path=...)``, the folder of video folders.
        ann_file: Optional list file of video folder names, one per line.
        **kwargs: Other arguments of :class:`StaticImageDataset`
            (``extensions``, ``skip_bad_images``, ``pipeline``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: dict = dict(img_path='JPEGImages'),
                 ann_file: str = '',
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the frames of every video.

        Returns:
            One ``dict(img_path, video_name, frame_idx)`` per frame, grouped
            by video; ``frame_idx`` is the frame's rank in its video.
        """
        root = self.data_prefix['img_path']
        listed = bool(self.ann_file)
        if listed:
            videos = self._read_list_file(self.ann_file)
        else:
            videos = self._scan_videos(root)
        data_list = []
        for video in videos:
            video_dir = fileio.join_path(
                root, video, backend_args=self.backend_args)
            if listed and not fileio.isdir(
                    video_dir, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'Video folder {video_dir!r} listed in {self.ann_file!r} '
                    'does not exist')
            frames = self._scan_images(video_dir, recursive=False)
            if not frames:
                if listed:
                    raise ValueError(
                        f'Video folder {video_dir!r} listed in '
                        f'{self.ann_file!r} holds no frame with an extension '
                        f'in {self.extensions}')
                print_log(
                    f'Skipping video folder {video_dir!r}: no frame with an '
                    f'extension in {self.extensions}',
                    logger='current',
                    level=logging.WARNING)
                continue
            data_list.extend(
                dict(
                    img_path=fileio.join_path(
                        video_dir, frame, backend_args=self.backend_args),
                    video_name=video,
                    frame_idx=frame_idx)
                for frame_idx, frame in enumerate(frames))
        if not data_list:
            raise ValueError(f'No video frame with an extension in '
                             f'{self.extensions} found under {root!r}')
        return data_list

    def video_frame_indices(self) -> List[List[int]]:
        """Group the dataset indices by video.

        Returns:
            One list of dataset indices per video, in dataset order.
        """
        groups: Dict[str, List[int]] = {}
        for idx in range(len(self)):
            video = self.get_data_info(idx)['video_name']
            groups.setdefault(video, []).append(idx)
        return list(groups.values())

    def _scan_videos(self, root: str) -> List[str]:
        """Return the sorted names of the non-hidden sub-folders of root."""
        if not root or not fileio.isdir(root, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'Video folder {root!r} does not exist; check data_root and '
                'data_prefix["img_path"]')
        return sorted(
            name for name in fileio.list_dir_or_file(
                root,
                list_file=False,
                recursive=False,
                backend_args=self.backend_args) if not name.startswith('.'))
