"""Writer of YouTube-VOS test-server submissions."""
import os.path as osp
import zipfile
from typing import Dict, List, Optional

from mmengine.logging import MMLogger, print_log

from mmhvc.fileio import atomic_path
from mmhvc.registry import METRICS
from .base_video_metric import BaseVideoMetric
from .prediction_files import save_label_maps
from .video_samples import get_label_maps, get_meta


@METRICS.register_module()
class YouTubeVOSSubmission(BaseVideoMetric):
    """Write predicted masks in the YouTube-VOS server format and zip them.

    YouTube-VOS validation/test annotations are hidden; the server scores a
    zip with one indexed PNG per evaluated frame,
    ``Annotations/<video>/<frame>.png``. ``process`` writes each video's
    results folder ``<output_dir>/Annotations/<video>/``, a
    ``<frame>.png`` for the frames listed in the ``eval_frames`` metainfo
    only (the dataset may propagate through
    more frames than the server scores), with the sample's ``palette`` (the
    DAVIS palette when None); ``compute_metrics`` zips exactly those files
    into ``<output_dir>/<zip_name>`` with ``Annotations/`` at the top level.

    Each sample is one video with ``pred_masks`` ``(T, H, W)`` label maps and
    the metainfo ``seq_name``, ``frame_names`` (T stems) and
    ``eval_frames`` (frame stems, or indices into ``frame_names``).

    Args:
        output_dir (str, optional): Directory of the submission; set by
            ``VideoTestLoop`` at test time when None. Defaults to None.
        zip_name (str): File name of the zip in ``output_dir``.
            Defaults to ``'submission.zip'``.
        collect_device (str): Device used to gather results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the returned counts' names,
            which MMEngine returns and logs as ``<prefix>/num_videos`` and
            ``<prefix>/num_frames``. Defaults to None: ``default_prefix``,
            ``'youtube_vos'``.
    """

    default_prefix = 'youtube_vos'
    needs_ground_truth = False

    def __init__(self,
                 output_dir: Optional[str] = None,
                 zip_name: str = 'submission.zip',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            output_dir=output_dir,
            collect_device=collect_device,
            prefix=prefix)
        self.zip_name = zip_name

    @property
    def annotation_dir(self) -> str:
        """Directory holding one folder of PNGs per video."""
        return osp.join(
            self.require_output_dir('for the submission'), 'Annotations')

    def sequence_dir(self, seq_name: str) -> str:
        """``<output_dir>/Annotations/<video>``."""
        return osp.join(self.annotation_dir, seq_name)

    def write_sequence(self, sample: dict, folder: str) -> None:
        """Write the evaluated frames of one video."""
        pred = get_label_maps(sample, 'pred_masks')
        frame_names = list(get_meta(sample, 'frame_names'))
        save_label_maps(folder, pred, frame_names,
                        self._eval_indices(sample, frame_names),
                        sample.get('palette'))

    def read_sequence(self, folder: str, sample: dict) -> dict:
        """Check that every evaluated frame of the video has its mask.

        Returns:
            Nothing to add: the submission zips the files themselves.
        """
        frame_names = list(get_meta(sample, 'frame_names'))
        for index in self._eval_indices(sample, frame_names):
            path = osp.join(folder, f'{frame_names[index]}.png')
            if not osp.isfile(path):
                raise FileNotFoundError(f'result mask not found: {path}')
        return {}

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """List the evaluated frames of one video.

        Returns:
            ``frames``: the stems of the frames written, in frame order.
        """
        frame_names = list(get_meta(sample, 'frame_names'))
        return dict(frames=[
            frame_names[index]
            for index in self._eval_indices(sample, frame_names)
        ])

    @staticmethod
    def _eval_indices(sample: dict, frame_names: List[str]) -> List[int]:
        """Indices into ``frame_names`` of the ``eval_frames`` metainfo."""
        seq_name = sample['seq_name']
        positions = {name: index for index, name in enumerate(frame_names)}
        indices = []
        for frame in get_meta(sample, 'eval_frames'):
            if isinstance(frame, str):
                if frame not in positions:
                    raise KeyError(f'eval_frames of video {seq_name!r} names '
                                   f'frame {frame!r}, which is not in its '
                                   'frame_names')
                indices.append(positions[frame])
            elif 0 <= int(frame) < len(frame_names):
                indices.append(int(frame))
            else:
                raise IndexError(f'eval_frames of video {seq_name!r} holds '
                                 f'index {frame}, but the video has '
                                 f'{len(frame_names)} frames')
        return indices

    def compute_metrics(self, results: list) -> Dict[str, int]:
        """Zip the written masks into the submission file.

        Args:
            results (list): The gathered ``process`` results, one per video.

        Returns:
            dict[str, int]: ``num_videos`` and ``num_frames`` in the zip.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        zip_path = osp.join(
            self.require_output_dir('for the submission'), self.zip_name)
        num_frames = 0
        with atomic_path(zip_path) as tmp_path, zipfile.ZipFile(
                tmp_path, 'w', zipfile.ZIP_STORED) as archive:
            archive.write(self.annotation_dir, 'Annotations/')
            for result in results:
                video = result['seq_name']
                archive.write(
                    osp.join(self.annotation_dir, video),
                    f'Annotations/{video}/')
                for frame in result['frames']:
                    archive.write(
                        osp.join(self.annotation_dir, video, f'{frame}.png'),
                        f'Annotations/{video}/{frame}.png')
                    num_frames += 1
        print_log(
            f'YouTube-VOS submission with {len(results)} videos and '
            f'{num_frames} masks written to {zip_path}', logger)
        return dict(num_videos=len(results), num_frames=num_frames)
