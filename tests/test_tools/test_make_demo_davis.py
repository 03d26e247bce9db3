"""The command line of the synthetic dataset writer."""
import hashlib
import importlib.util
import os
import os.path as osp

import pytest

from mmhvc.datasets.synthetic import Options, write_davis, write_ytvos

TOOL = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters',
    'make_demo_davis.py')
TINY = ['--size', '32x48', '--frames', '6', '7', '--num-seqs', '2',
        '--num-train-seqs', '1']


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('make_demo_davis', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_digest(root):
    """Map relative path -> sha256 of every file under root."""
    digest = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                digest[osp.relpath(path, root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return digest


def test_davis_layout_deterministic(tool, tmp_path):
    first, second, other = (str(tmp_path / n) for n in ('a', 'b', 'c'))
    tool.main([first, '--seed', '3', '--train-images', '2'] + TINY)
    tool.main([second, '--seed', '3', '--train-images', '2'] + TINY)
    tool.main([other, '--seed', '4', '--train-images', '2'] + TINY)
    digest = tree_digest(first)
    assert digest == tree_digest(second)
    assert digest != tree_digest(other)
    assert 'ImageSets/2017/val.txt' in digest
    assert 'ImageSets/2016/val.txt' in digest
    assert 'ImageSets/2017/train.txt' in digest
    assert sorted(os.listdir(osp.join(first, 'train_images'))) == \
        ['000000.jpg', '000001.jpg']
    assert not any(name.endswith('.tmp') for name in digest)
    with pytest.raises(FileExistsError, match='--overwrite'):
        tool.main([first] + TINY)
    tool.main([first, '--seed', '3', '--overwrite', '--train-images', '2'] +
              TINY)
    assert tree_digest(first) == digest


def test_flags_reach_the_writers(tool, tmp_path):
    """The command line writes what the package functions write with the
    same options."""
    cli, package = str(tmp_path / 'cli'), str(tmp_path / 'package')
    tool.main([cli, '--layout', 'ytvos', '--seed', '5', '--objects', '1',
               '2'] + TINY)
    write_ytvos(package, Options(5, (32, 48), (6, 7), (1, 2), False), 2, 1)
    assert tree_digest(cli) == tree_digest(package)
    cli, package = str(tmp_path / 'cli_davis'), str(tmp_path / 'pkg_davis')
    tool.main([cli, '--seed', '6'] + TINY)
    write_davis(package, Options(6, (32, 48), (6, 7), (2, 3), False), 2, 1)
    assert tree_digest(cli) == tree_digest(package)


def test_bad_arguments(tool, tmp_path):
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path), '--size', '20x20'])
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path), '--frames', '9', '8'])
