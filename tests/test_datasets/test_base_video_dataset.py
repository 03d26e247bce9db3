import os.path as osp

import pytest

from mmhvc.datasets.base_video_dataset import BaseVideoDataset


class ToyVideoDataset(BaseVideoDataset):
    """Frames in ``frames/<seq>/``, label maps in ``labels/<seq>/``."""

    METAINFO = dict(dataset_name='Toy')
    ROOT_LAYOUT = 'frames/, labels/ and list.txt'
    LIST_FILE = 'sequence list'

    def __init__(self, data_root, ann_file='list.txt', **kwargs):
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img_path='frames', ann_path='labels'),
            **kwargs)

    def load_sequence(self, name):
        frame_dir = self.join(self.data_prefix['img_path'], name)
        stems = self.list_frames(frame_dir, f'Sequence "{name}"')
        ann_dir = self.join(self.data_prefix['ann_path'], name)
        labels = self.list_annotations(ann_dir, '.png', stems, frame_dir,
                                       'Label map')
        return self.sequence_info(name, frame_dir, stems, labels=labels)


def touch(*paths):
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')


@pytest.fixture
def toy_root(tmp_path):
    touch(tmp_path / 'frames' / 'a' / '00001.jpg',
          tmp_path / 'frames' / 'a' / '00000.jpg',
          tmp_path / 'frames' / 'a' / 'notes.txt',
          tmp_path / 'frames' / 'b' / '00000.jpg',
          tmp_path / 'labels' / 'a' / '00000.png')
    (tmp_path / 'list.txt').write_text('a\n\n  b \n')
    return tmp_path


def test_sequences_in_list_order_with_sorted_frames(toy_root):
    dataset = ToyVideoDataset(str(toy_root))
    assert len(dataset) == 2
    info = dataset.get_data_info(0)
    assert info['seq_name'] == 'a'
    assert info['frame_names'] == ['00000', '00001']
    assert info['frame_paths'] == [
        osp.join(str(toy_root), 'frames', 'a', '00000.jpg'),
        osp.join(str(toy_root), 'frames', 'a', '00001.jpg')
    ]
    assert info['labels'] == {'00000'}
    assert dataset.get_data_info(1)['seq_name'] == 'b'
    assert dataset.get_data_info(1)['labels'] == set()


def test_missing_root_names_the_folder_and_the_layout(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match=r'Toy data_root not found: ".*nowhere"\. It must hold '
            r'frames/, labels/ and list\.txt'):
        ToyVideoDataset(str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='data_root not found: ""'):
        ToyVideoDataset('')


def test_missing_list_file_names_it(toy_root):
    with pytest.raises(
            FileNotFoundError,
            match=r'Toy sequence list not found: .*other\.txt'):
        ToyVideoDataset(str(toy_root), ann_file='other.txt')


def test_empty_list_file_names_it(toy_root):
    (toy_root / 'empty.txt').write_text('\n  \n')
    with pytest.raises(
            ValueError, match=r'Toy sequence list .*empty\.txt lists no'):
        ToyVideoDataset(str(toy_root), ann_file='empty.txt')


def test_read_list_file_numbers_the_lines(toy_root):
    dataset = ToyVideoDataset(str(toy_root))
    path = toy_root / 'fields.txt'
    path.write_text('x 1\n\n y  2 \n')
    assert dataset.read_list_file(str(path)) == [(1, 'x 1'), (3, 'y  2')]
    assert dataset.read_name_list(str(path)) == ['x 1', 'y  2']


def test_list_stems_sorted_and_filtered(toy_root):
    dataset = ToyVideoDataset(str(toy_root))
    folder = str(toy_root / 'frames' / 'a')
    assert dataset.list_stems(folder, '.jpg') == ['00000', '00001']
    assert dataset.list_stems(folder, '.txt') == ['notes']
    assert dataset.list_stems(str(toy_root / 'missing'), '.jpg') == []


def test_sequence_without_frames_names_the_folder(toy_root):
    (toy_root / 'list.txt').write_text('a\nghost\n')
    with pytest.raises(
            FileNotFoundError,
            match=r'Sequence "ghost": no "\*\.jpg" frames in .*ghost'):
        ToyVideoDataset(str(toy_root))


def test_annotation_without_frame_names_the_file(toy_root):
    touch(toy_root / 'labels' / 'b' / '00007.png')
    with pytest.raises(
            ValueError,
            match=r'Label map .*b.00007\.png has no matching frame'):
        ToyVideoDataset(str(toy_root))


def test_require_file(toy_root):
    dataset = ToyVideoDataset(str(toy_root))
    dataset.require_file(str(toy_root / 'list.txt'), 'List')
    with pytest.raises(FileNotFoundError, match=r'Joint file not found: .*x'):
        dataset.require_file(str(toy_root / 'x'), 'Joint file')


def test_subclass_must_load_its_sequences(toy_root):

    class Incomplete(BaseVideoDataset):
        METAINFO = dict(dataset_name='Incomplete')

    with pytest.raises(NotImplementedError, match='Incomplete'):
        Incomplete(str(toy_root), ann_file='list.txt')
