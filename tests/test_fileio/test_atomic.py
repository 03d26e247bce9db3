import os
import os.path as osp
from pathlib import Path

import pytest
import torch

from mmhvc.fileio import (atomic_dir, atomic_path, atomic_torch_save,
                          atomic_write_bytes, atomic_write_text, commit_file,
                          remove_temporaries, temp_path)


def test_temp_path_is_a_hidden_sibling(tmp_path):
    path = str(tmp_path / 'sub' / 'clip.mp4')
    pid = os.getpid()
    assert temp_path(path) == str(tmp_path / 'sub' / f'.clip.mp4.{pid}.tmp')
    assert temp_path(path, keep_extension=True) == str(
        tmp_path / 'sub' / f'.clip.{pid}.tmp.mp4')


def test_atomic_path_commits_on_success(tmp_path):
    path = tmp_path / 'new' / 'out.txt'
    with atomic_path(str(path)) as tmp:
        with open(tmp, 'w') as f:
            f.write('done')
        # Not visible under its name while being written.
        assert not path.exists()
    assert path.read_text() == 'done'
    assert os.listdir(path.parent) == ['out.txt']


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / 'out.txt'
    path.write_text('old')
    with pytest.raises(RuntimeError, match='interrupted'):
        with atomic_path(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise RuntimeError('interrupted')
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.txt']


def test_atomic_path_needs_the_file_written(tmp_path):
    path = str(tmp_path / 'never.txt')
    with pytest.raises(FileNotFoundError, match='never.txt'):
        with atomic_path(path):
            pass
    assert not osp.exists(path)


def test_atomic_write_text_and_commit_file(tmp_path):
    path = str(tmp_path / 'last_checkpoint')
    atomic_write_text(path, 'a')
    atomic_write_text(path, 'bb')
    with open(path) as f:
        assert f.read() == 'bb'
    tmp = tmp_path / 'x.tmp'
    tmp.write_text('payload')
    commit_file(str(tmp), path, durable=True)
    assert not tmp.exists() and open(path).read() == 'payload'


def test_atomic_write_bytes_replaces_the_whole_file(tmp_path):
    path = str(tmp_path / 'masks' / '00000.png')
    atomic_write_bytes(path, b'\x89PNG long first version')
    atomic_write_bytes(path, b'\x00\xff', durable=True)
    with open(path, 'rb') as f:
        assert f.read() == b'\x00\xff'
    assert os.listdir(tmp_path / 'masks') == ['00000.png']


def test_atomic_write_bytes_leaves_nothing_on_failure(tmp_path):
    path = tmp_path / 'table.csv'
    path.write_bytes(b'old')
    with pytest.raises(TypeError):
        atomic_write_bytes(str(path), 'text is not bytes')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['table.csv']


def test_atomic_torch_save_round_trip(tmp_path):
    path = str(tmp_path / 'out' / 'weights.pth')
    weights = {'conv1.weight': torch.arange(6.).reshape(2, 3)}
    atomic_torch_save(weights, path)
    loaded = torch.load(path, weights_only=True)
    assert list(loaded) == ['conv1.weight']
    assert loaded['conv1.weight'].tolist() == [[0., 1., 2.], [3., 4., 5.]]
    assert os.listdir(tmp_path / 'out') == ['weights.pth']


def test_atomic_dir_appears_complete_or_not_at_all(tmp_path):
    target = tmp_path / 'results' / 'seq'
    with atomic_dir(str(target)) as folder:
        assert osp.basename(folder) == f'.seq.{os.getpid()}.tmp'
        assert not target.exists()
        (Path(folder) / 'a.png').write_bytes(b'a')
    assert sorted(os.listdir(target)) == ['a.png']
    assert os.listdir(tmp_path / 'results') == ['seq']

    # A folder already there is replaced as a whole.
    with atomic_dir(str(target)) as folder:
        (Path(folder) / 'b.png').write_bytes(b'b')
    assert sorted(os.listdir(target)) == ['b.png']

    with pytest.raises(RuntimeError):
        with atomic_dir(str(tmp_path / 'results' / 'other')) as folder:
            (Path(folder) / 'c.png').write_bytes(b'c')
            raise RuntimeError('killed')
    assert os.listdir(tmp_path / 'results') == ['seq']


def test_remove_temporaries_of_killed_writers(tmp_path):
    keep = tmp_path / 'seq' / 'a.png'
    keep.parent.mkdir()
    keep.write_bytes(b'a')
    torn = tmp_path / 'seq' / '.b.png.17.tmp'
    torn.write_bytes(b'b')
    half = tmp_path / 'group' / '.seq.17.tmp'
    half.mkdir(parents=True)
    (half / '.c.png.17.tmp').write_bytes(b'c')
    assert remove_temporaries(str(tmp_path)) == sorted(
        [str(half), str(torn)])
    assert keep.is_file() and not torn.exists() and not half.exists()
