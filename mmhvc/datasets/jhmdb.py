"""JHMDB human pose (keypoint) propagation."""
import os.path as osp
from typing import List, Tuple

from mmengine import fileio

from mmhvc.registry import DATASETS
from .base_video_dataset import BaseVideoDataset

#: The 15 JHMDB joints, in the order of ``pos_img``.
JHMDB_JOINTS = ('neck', 'belly', 'face', 'right_shoulder', 'left_shoulder',
                'right_hip', 'left_hip', 'right_elbow', 'left_elbow',
                'right_knee', 'left_knee', 'right_wrist', 'left_wrist',
                'right_ankle', 'left_ankle')

#: Label of the test videos in the official split files.
_TEST_LABEL = '2'


@DATASETS.register_module()
class JHMDBDataset(BaseVideoDataset):
    """JHMDB pose propagation: one item per video.

    The official layout under ``data_root``::

        Rename_Images/<action>/<video>/00001.png ...
        joint_positions/<action>/<video>/joint_positions.mat
        splits/<action>_test_split<k>.txt        ("<video>.avi 1|2" lines)

    The videos are those labelled 2 (test) in the split files of split
    ``split`` (split 1 is the protocol's validation set). Alternatively
    ``ann_file`` names a list in the CRW/UVC format (e.g.
    ``testlist_split1.txt``): one video a line, its frame folder and its
    ``joint_positions.mat``, separated by white space, relative to
    ``data_root`` unless absolute.

    Each item holds ``seq_name`` (``<action>/<video>``), ``action``,
    ``frame_names`` (T stems), ``frame_paths``, ``joint_path`` and
    ``split``. Frames and joints are read later, by ``LoadVideoFrames`` and
    ``LoadVideoKeypoints``.

    Args:
        data_root: JHMDB root folder.
        split: Official split, 1, 2 or 3.
        ann_file: Optional CRW/UVC-style video list (see above).
        data_prefix: Folders of the frames (``img_path``), the joint files
            (``ann_path``) and the split files (``split_path``), relative to
            ``data_root``.
        img_suffix: File ending of the frames.
        joint_file: Name of the joint file in each video's folder.
        **kwargs: Other arguments of :class:`BaseVideoDataset`
            (``backend_args``, ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='JHMDB', joint_names=JHMDB_JOINTS)
    ROOT_LAYOUT = 'Rename_Images/, joint_positions/ and splits/'
    DOCS = 'docs/test.md'
    LIST_FILE = 'video list'

    def __init__(self,
                 data_root: str,
                 split: int = 1,
                 ann_file: str = '',
                 data_prefix: dict = dict(
                     img_path='Rename_Images',
                     ann_path='joint_positions',
                     split_path='splits'),
                 img_suffix: str = '.png',
                 joint_file: str = 'joint_positions.mat',
                 **kwargs) -> None:
        if int(split) not in (1, 2, 3):
            raise ValueError(f'JHMDB split must be 1, 2 or 3, got {split}')
        self.split = int(split)
        self.joint_file = joint_file
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the test videos of the split with their frames and joints."""
        if self.ann_file:
            videos = self._read_video_list()
        else:
            videos = [(self.join(self.data_prefix['img_path'], action, video),
                       self.join(self.data_prefix['ann_path'], action, video,
                                 self.joint_file))
                      for action, video in self._read_split_files()]
        if not videos:
            raise ValueError(
                f'JHMDB split {self.split}: no test video found '
                f'({self.ann_file or self.data_prefix["split_path"]})')
        return [self._load_video(*video) for video in videos]

    def _read_split_files(self) -> List[Tuple[str, str]]:
        """``(action, video)`` of the test videos in the split files."""
        split_dir = self.data_prefix['split_path']
        suffix = f'_test_split{self.split}.txt'
        if not fileio.isdir(split_dir, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'JHMDB split folder not found: {split_dir}')
        names = sorted(
            fileio.list_dir_or_file(
                split_dir,
                list_dir=False,
                suffix=suffix,
                backend_args=self.backend_args))
        if not names:
            raise FileNotFoundError(
                f'No "*{suffix}" split file in {split_dir}')
        videos = []
        for name in names:
            path = self.join(split_dir, name)
            action = name[:-len(suffix)]
            for number, line in self.read_list_file(path):
                fields = line.split()
                if len(fields) != 2 or fields[1] not in ('0', '1', '2'):
                    raise ValueError(
                        f'{path}, line {number}: expected "<video>.avi '
                        f'<0|1|2>", got "{line}"')
                if fields[1] == _TEST_LABEL:
                    videos.append((action, osp.splitext(fields[0])[0]))
        return videos

    def _read_video_list(self) -> List[Tuple[str, str]]:
        """``(frame_dir, joint_path)`` of the videos in ``ann_file``."""
        videos = []
        for number, line in self.read_list_file():
            fields = line.split()
            if len(fields) != 2:
                raise ValueError(
                    f'{self.ann_file}, line {number}: expected "<frame '
                    f'folder> <joint file>", got "{line}"')
            videos.append(
                tuple(field if osp.isabs(field) else self.join(
                    self.data_root, field) for field in fields))
        return videos

    def _load_video(self, frame_dir: str, joint_path: str) -> dict:
        """List one video's frames."""
        frame_dir = frame_dir.rstrip('/')
        stems = sorted(
            self.list_frames(frame_dir, 'JHMDB video'),
            key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
        self.require_file(joint_path, 'Joint annotation')
        action, video = frame_dir.split('/')[-2:]
        return self.sequence_info(
            f'{action}/{video}',
            frame_dir,
            stems,
            action=action,
            joint_path=joint_path,
            split=f'split{self.split}')
