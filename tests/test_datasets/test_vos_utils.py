import pytest

from mmhvc.datasets.vos_utils import list_stems, read_name_list


def test_read_name_list_strips_and_skips_blank_lines(tmp_path):
    path = tmp_path / 'val.txt'
    path.write_text('bear\n\n  dog \ncamel\n')
    assert read_name_list(str(path), 'split file') == ['bear', 'dog', 'camel']


def test_empty_name_list_names_the_file(tmp_path):
    path = tmp_path / 'empty.txt'
    path.write_text('\n  \n')
    with pytest.raises(ValueError, match=r'DAVIS split file .*empty\.txt'):
        read_name_list(str(path), 'DAVIS split file')


def test_list_stems_sorted_and_filtered(tmp_path):
    for name in ('00002.jpg', '00000.jpg', '00001.png'):
        (tmp_path / name).write_bytes(b'')
    assert list_stems(str(tmp_path), '.jpg') == ['00000', '00002']
    assert list_stems(str(tmp_path / 'missing'), '.jpg') == []
