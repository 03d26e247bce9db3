"""What every video dataset of the propagation benchmarks shares."""
import io
import os.path as osp
from typing import List, Optional, Sequence, Set, Tuple

from mmengine import fileio
from mmengine.dataset import BaseDataset
from PIL import Image

#: EXIF orientations that turn an image by 90 degrees (OpenCV, and so the
#: frame loader, applies them when decoding).
_TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)
_EXIF_ORIENTATION = 0x0112
#: How many problems :meth:`BaseVideoDataset.check_integrity` lists.
_MAX_LISTED_PROBLEMS = 20


class BaseVideoDataset(BaseDataset):
    """Base class of the video datasets: one item per video (sequence).

    A subclass describes its own folder layout; this class checks the root
    folder, reads list files, lists frames and annotations and assembles
    the per-sequence data info, with errors that name the file or folder at
    fault. Paths are joined with the MMEngine file backend, so any backend
    (local, HTTP, Petrel, ...) works.

    By default the list file ``ann_file`` names one sequence a line, and
    :meth:`load_data_list` calls :meth:`load_sequence` for each; datasets
    whose sequences come from elsewhere (a JSON meta file, split files)
    override :meth:`load_data_list`.

    Every item holds at least ``seq_name``, ``frame_names`` (the T frame
    file stems, sorted) and ``frame_paths`` (T paths), see
    :meth:`sequence_info`.

    With ``check_files`` (set by ``tools/test.py``), :meth:`check_integrity`
    checks the files of every sequence when the dataset is fully
    initialised, before anything is propagated.

    Subclasses set the class attributes:

    - ``METAINFO['dataset_name']``: the name the errors use.
    - ``ROOT_LAYOUT``: what ``data_root`` must hold, e.g.
      ``'JPEGImages/, Annotations/ and ImageSets/'``.
    - ``DOCS``: the page that describes the layout.
    - ``LIST_FILE``: what the errors call ``ann_file``, e.g.
      ``'split file'``.

    Args:
        data_root: Root folder of the dataset; must exist.
        ann_file: List file, relative to ``data_root`` unless absolute.
        data_prefix: Folders (``img_path``, ``ann_path``, ...) relative to
            ``data_root`` unless absolute.
        img_suffix: File ending of the frames, e.g. ``'.jpg'``.
        backend_args: Arguments of the MMEngine file backend.
        check_files: Run :meth:`check_integrity` at full initialisation.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ``indices``, ...).
    """

    METAINFO: dict = dict(dataset_name='video')
    ROOT_LAYOUT = 'the frame and annotation folders'
    DOCS = 'docs/dataset_prepare.md'
    LIST_FILE = 'sequence list'

    def __init__(self,
                 data_root: str,
                 ann_file: str = '',
                 data_prefix: dict = dict(img_path=''),
                 img_suffix: str = '.jpg',
                 backend_args: Optional[dict] = None,
                 check_files: bool = False,
                 **kwargs) -> None:
        self.img_suffix = img_suffix
        self.backend_args = backend_args
        self.check_files = check_files
        if not data_root or not fileio.isdir(
                data_root, backend_args=backend_args):
            raise FileNotFoundError(
                f'{self.dataset_name} data_root not found: "{data_root}". '
                f'It must hold {self.ROOT_LAYOUT} (see {self.DOCS}).')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(data_prefix),
            **kwargs)

    def full_init(self) -> None:
        """Load and, with ``check_files``, check the sequences."""
        if self._fully_initialized:
            return
        super().full_init()
        if self.check_files:
            self.check_integrity()

    @property
    def sequence_names(self) -> List[str]:
        """The names of the sequences, in dataset order."""
        return [self.get_data_info(i)['seq_name'] for i in range(len(self))]

    @property
    def dataset_name(self) -> str:
        """The dataset's name in messages, e.g. ``'DAVIS'``."""
        return self.METAINFO['dataset_name']

    def load_data_list(self) -> List[dict]:
        """Read the sequence names in ``ann_file`` and load each sequence."""
        return [self.load_sequence(name) for name in self.read_name_list()]

    def load_sequence(self, name: str) -> dict:
        """List the frames and annotations of sequence ``name``.

        Subclasses that keep the default :meth:`load_data_list` implement
        it, usually ending with :meth:`sequence_info`.
        """
        raise NotImplementedError(
            f'{type(self).__name__} must implement load_sequence or '
            'load_data_list')

    def join(self, *parts: str) -> str:
        """Join path parts with the file backend."""
        return fileio.join_path(*parts, backend_args=self.backend_args)

    def require_file(self, path: str, what: str) -> None:
        """Raise ``FileNotFoundError('<what> not found: <path>')`` when
        ``path`` does not exist."""
        if not fileio.exists(path, backend_args=self.backend_args):
            raise FileNotFoundError(f'{what} not found: {path}')

    def read_list_file(self,
                       path: Optional[str] = None) -> List[Tuple[int, str]]:
        """The non-blank lines of a list file.

        Args:
            path: The file; ``ann_file`` when None.

        Returns:
            ``(number, text)`` of each non-blank line: its 1-based line
            number (for error messages) and its stripped text, in file
            order.

        Raises:
            FileNotFoundError: The file does not exist; the message calls
                it ``'<dataset_name> <LIST_FILE>'`` and gives its path.
        """
        path = self.ann_file if path is None else path
        self.require_file(path, f'{self.dataset_name} {self.LIST_FILE}')
        text = fileio.get_text(path, backend_args=self.backend_args)
        return [(number, line.strip())
                for number, line in enumerate(text.splitlines(), 1)
                if line.strip()]

    def read_name_list(self, path: Optional[str] = None) -> List[str]:
        """Read a list file of sequence names, one a line.

        Args:
            path: The file; ``ann_file`` when None.

        Returns:
            The non-blank lines, stripped, in file order.

        Raises:
            FileNotFoundError: The file does not exist.
            ValueError: The file lists no name.
        """
        path = self.ann_file if path is None else path
        names = [line for _, line in self.read_list_file(path)]
        if not names:
            raise ValueError(
                f'{self.dataset_name} {self.LIST_FILE} {path} lists no '
                'sequence')
        return names

    def list_stems(self, folder: str, suffix: str) -> List[str]:
        """The sorted names, without ``suffix``, of the files in ``folder``
        that end with ``suffix`` (not recursive); empty when the folder
        does not exist."""
        if not fileio.isdir(folder, backend_args=self.backend_args):
            return []
        names = fileio.list_dir_or_file(
            folder,
            list_dir=False,
            suffix=suffix,
            backend_args=self.backend_args)
        return sorted(osp.splitext(name)[0] for name in names)

    def list_frames(self, frame_dir: str, where: str) -> List[str]:
        """The sorted stems of the ``img_suffix`` frames in ``frame_dir``.

        Args:
            frame_dir: The sequence's frame folder.
            where: Names the sequence in the error, e.g.
                ``'Sequence "bear" listed in ImageSets/2017/val.txt'``.

        Raises:
            FileNotFoundError: The folder is missing or holds no frame.
        """
        stems = self.list_stems(frame_dir, self.img_suffix)
        if not stems:
            raise FileNotFoundError(
                f'{where}: no "*{self.img_suffix}" frames in {frame_dir}')
        return stems

    def list_annotations(self, ann_dir: str, suffix: str,
                         frame_stems: Sequence[str], frame_dir: str,
                         what: str) -> Set[str]:
        """The stems of the annotation files in ``ann_dir``, each of which
        must belong to a frame.

        Args:
            ann_dir: The sequence's annotation folder.
            suffix: File ending of the annotations, e.g. ``'.png'``.
            frame_stems: The stems of the sequence's frames.
            frame_dir: The frame folder, named in the error.
            what: What the error calls an annotation, e.g. ``'Label map'``.

        Raises:
            ValueError: An annotation has no frame of the same stem.
        """
        ann_stems = set(self.list_stems(ann_dir, suffix))
        orphans = sorted(ann_stems - set(frame_stems))
        if orphans:
            raise ValueError(
                f'{what} {self.join(ann_dir, orphans[0] + suffix)} has no '
                f'matching frame in {frame_dir}')
        return ann_stems

    def sequence_info(self, name: str, frame_dir: str,
                      frame_names: Sequence[str], **fields) -> dict:
        """Assemble the data info of one sequence.

        Args:
            name: The sequence name, ``seq_name``.
            frame_dir: The frame folder.
            frame_names: The T frame stems, in frame order.
            **fields: The dataset's own keys (annotation paths, split, ...).

        Returns:
            ``seq_name``, ``frame_names``, ``frame_paths``
            (``<frame_dir>/<stem><img_suffix>``) and ``fields``.
        """
        return dict(
            seq_name=name,
            frame_names=list(frame_names),
            frame_paths=[
                self.join(frame_dir, stem + self.img_suffix)
                for stem in frame_names
            ],
            **fields)

    def check_integrity(self) -> None:
        """Check the files of every sequence without decoding the frames.

        For each sequence (see :meth:`check_sequence`): every frame can be
        opened and its header gives the size of the first frame; the given
        annotations decode and have the frames' size; the other
        annotations' headers give that size. Reading headers costs a small
        part of propagating, so a corrupt or mis-sized file in the last
        sequence is reported before the first one is propagated.

        Raises:
            ValueError: Listing the problems found (at most 20), each with
                its sequence and file.
        """
        problems = []
        for index in range(len(self)):
            problems.extend(self.check_sequence(self.get_data_info(index)))
        if problems:
            listed = problems[:_MAX_LISTED_PROBLEMS]
            more = len(problems) - len(listed)
            raise ValueError(
                f'{self.dataset_name}: {len(problems)} problem(s) in the data '
                f'(found before propagating):\n  ' + '\n  '.join(listed)
                + (f'\n  ... and {more} more' if more else ''))

    def check_sequence(self, info: dict) -> List[str]:
        """The problems of one sequence's files (see
        :meth:`check_integrity`), each naming the sequence and the file."""
        where = f'Sequence "{info["seq_name"]}"'
        paths = info['frame_paths']
        try:
            size = self.image_size(paths[0])
        except (OSError, ValueError) as e:
            return [f'{where}: {e}']
        decoded, headers = self.annotation_files(info)
        # (path, decode it, what it is) of every file whose size must match.
        files = [(path, False, 'frame') for path in paths[1:]]
        files += [(path, True, 'annotation') for path in decoded]
        files += [(path, False, 'annotation') for path in headers]
        expected = dict(
            frame=f'{paths[0]} is {size[0]}x{size[1]}',
            annotation=f'the frames are {size[0]}x{size[1]} ({paths[0]})')
        problems = []
        for path, decode, kind in files:
            try:
                found = self.image_size(path, decode)
            except (OSError, ValueError) as e:
                problems.append(f'{where}: {e}')
                continue
            if found != size:
                problems.append(f'{where}: {kind} {path} is {found[0]}x'
                                f'{found[1]} (WxH) but {expected[kind]}')
        return problems

    def annotation_files(self, info: dict) -> Tuple[List[str], List[str]]:
        """The annotation files of a sequence that must match its frames.

        Datasets with other annotation keys override it.

        Args:
            info: The sequence's data info.

        Returns:
            ``(decoded, headers)``: the files to decode (the given masks,
            ``given_ann_paths``), and those of which only the header is
            read (the ground truth, ``gt_ann_paths``, less the given
            masks).
        """
        decoded = list(info.get('given_ann_paths') or [])
        headers = [
            path for path in info.get('gt_ann_paths') or []
            if path not in set(decoded)
        ]
        return decoded, headers

    def image_size(self, path: str, decode: bool = False) -> Tuple[int, int]:
        """The ``(width, height)`` of an image file, as it is decoded.

        Only the header is read unless ``decode``; from the local disk only
        that part of the file, from other backends the whole file. The EXIF
        orientation of a JPEG that turns it swaps width and height, as
        OpenCV's decoder does.

        Raises:
            FileNotFoundError: The file does not exist.
            ValueError: The file is not a readable image; the message names
                it.
        """
        backend = fileio.get_file_backend(path, backend_args=self.backend_args)
        try:
            if isinstance(backend, fileio.LocalBackend):
                image = Image.open(path)
            else:
                image = Image.open(io.BytesIO(backend.get(path)))
        except FileNotFoundError as e:
            raise FileNotFoundError(f'file not found: {path}') from e
        except Exception as e:
            raise ValueError(f'cannot read the image {path}: {e}') from e
        with image:
            try:
                if decode:
                    image.load()
                orientation = image.getexif().get(
                    _EXIF_ORIENTATION) if image.format == 'JPEG' else None
            except Exception as e:
                raise ValueError(f'cannot decode the image {path}: {e}') from e
            width, height = image.size
        if orientation in _TRANSPOSING_ORIENTATIONS:
            return height, width
        return width, height
