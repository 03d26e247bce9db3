import os.path as osp

import pytest
import torch

from mmhvc.utils import (check_resume_checkpoint, find_resume_checkpoint,
                         is_complete_checkpoint)


def save(path, value=0.):
    torch.save(dict(state_dict=dict(w=torch.tensor([value]))), str(path))
    return str(path)


def truncate(path):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def point(work_dir, text):
    (work_dir / 'last_checkpoint').write_text(text)


def test_is_complete_checkpoint(tmp_path):
    good = save(tmp_path / 'good.pth')
    assert is_complete_checkpoint(good)
    torn = save(tmp_path / 'torn.pth')
    truncate(torn)
    assert not is_complete_checkpoint(torn)
    (tmp_path / 'empty.pth').write_bytes(b'')
    (tmp_path / 'text.pth').write_text('not a checkpoint')
    for name in ('empty.pth', 'text.pth', 'missing.pth'):
        assert not is_complete_checkpoint(str(tmp_path / name))


def test_pointer_to_a_complete_checkpoint_wins(tmp_path):
    # iter_8 is left from an older run; last_checkpoint names this run's.
    save(tmp_path / 'iter_8.pth')
    latest = save(tmp_path / 'iter_2.pth')
    point(tmp_path, latest + '\n')
    assert find_resume_checkpoint(str(tmp_path)) == latest


@pytest.mark.parametrize('pointer', ['iter_6.pth', '', 'truncated', None])
def test_broken_pointer_falls_back_to_newest_complete(tmp_path, pointer):
    save(tmp_path / 'iter_2.pth')
    expected = save(tmp_path / 'iter_4.pth')
    torn = save(tmp_path / 'iter_6.pth')
    truncate(torn)
    save(tmp_path / 'iter_10.pth.tmp')  # not a checkpoint name
    if pointer == 'truncated':
        # A torn write of the pointer itself.
        point(tmp_path, osp.join(str(tmp_path), 'iter_6.pth')[:-5])
    elif pointer is not None:
        point(tmp_path, osp.join(str(tmp_path), pointer) if pointer else '')
    assert find_resume_checkpoint(str(tmp_path)) == expected


def test_nothing_to_resume(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) is None
    truncate(save(tmp_path / 'iter_2.pth'))
    point(tmp_path, str(tmp_path / 'iter_2.pth'))
    assert find_resume_checkpoint(str(tmp_path)) is None


def test_check_resume_checkpoint(tmp_path):
    check_resume_checkpoint(save(tmp_path / 'ok.pth'))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        check_resume_checkpoint(str(tmp_path / 'nope.pth'))
    torn = save(tmp_path / 'torn.pth')
    truncate(torn)
    with pytest.raises(ValueError, match=r'torn\.pth is not a complete'):
        check_resume_checkpoint(torn)
