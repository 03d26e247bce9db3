"""tools/test.py checks every sequence's files before propagating any: a
corrupt mask in the last sequence stops the run at once, naming the file."""
import glob
import os.path as osp
import sys

from reliability_utils import REPO, run_tool

from mmhvc.datasets.synthetic import Options, write_davis

CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')


def test_corrupt_last_sequence_fails_before_propagation(tmp_path):
    data = str(tmp_path / 'davis')
    write_davis(
        data,
        Options(seed=0, size=(48, 64), frames=(5, 6),
                objects=(2, 3), overwrite=False), 3, 0)
    with open(osp.join(data, 'ImageSets', '2017', 'val.txt')) as f:
        last = f.read().split()[-1]
    mask = osp.join(data, 'Annotations', '480p', last, '00000.png')
    with open(mask, 'rb') as f:
        content = f.read()
    with open(mask, 'wb') as f:
        f.write(content[:len(content) // 2])
    ckpt = str(tmp_path / 'random.pth')
    run_tool([
        sys.executable, 'tools/analysis_tools/random_init_checkpoint.py',
        CONFIG, ckpt
    ])
    work_dir = str(tmp_path / 'work')

    result = run_tool([
        sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir', work_dir,
        '--cfg-options', f'test_dataloader.dataset.data_root={data}'
    ],
                      check=False)
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()
    assert error[-2].startswith('ValueError: DAVIS: 1 problem(s) in the '
                                'data (found before propagating):')
    assert error[-1].strip().startswith(f'Sequence "{last}": cannot ')
    assert mask in error[-1]
    # Nothing was propagated: no iteration logged, no result written.
    assert 'Iter(test)' not in result.stdout + result.stderr
    assert not glob.glob(osp.join(work_dir, '*', 'results'))
    assert not glob.glob(osp.join(work_dir, '*', 'evaluation_run.json'))
