"""tools/analysis_tools/summarize_demo.py on a fake demo work dir."""
import importlib.util
import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

HEADER = ('J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay\n')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'summarize_demo',
        osp.join(REPO, 'tools', 'analysis_tools', 'summarize_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def scores_csv(jf, j, f):
    return HEADER + f'{jf},{j},0.500,0.010,{f},0.400,0.020\n'


@pytest.fixture
def work_dir(tmp_path):
    root = str(tmp_path / 'demo')
    random_dir = osp.join(root, 'test_random_init')
    trained_dir = osp.join(root, 'test_trained')
    # An older run with other numbers, and a newer one that never finished:
    # neither may be read.
    write(osp.join(random_dir, '20240101_000000', 'results',
                   'global_results-val.csv'), scores_csv(0.1, 0.1, 0.1))
    os.makedirs(osp.join(random_dir, '20240103_000000'))
    write(osp.join(random_dir, '20240102_000000', 'results',
                   'global_results-val.csv'),
          scores_csv('0.420', '0.462', '0.378'))
    write(osp.join(trained_dir, '20240102_000100', 'results',
                   'global_results-val.csv'),
          scores_csv('0.480', '0.527', '0.432'))
    os.makedirs(osp.join(trained_dir, '20240102_000100', 'vis'))
    write(osp.join(root, 'train', '20240102_000000', 'vis_data', 'vis_image',
                   'train_crop_pairs_50.png'), '')
    write(osp.join(root, 'logs', 'step_times.tsv'),
          'train\t151.4\ntest_random_init\t42.0\ntest_trained\t58.6\n')
    return root


def rows_by_step(table):
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows[cells[0]] = cells[1:]
    return rows


def test_table_scores_gain_times_and_paths(tool, work_dir, capsys):
    out = osp.join(work_dir, 'summary.md')
    tool.main([work_dir, '--train-label', 'HVC, 240 demo iterations',
               '--out', out])
    table = capsys.readouterr().out
    assert open(out).read() == table
    lines = table.splitlines()
    assert [c.strip() for c in lines[0].strip('|').split('|')] == [
        'step', 'time', 'J&F-Mean', 'J-Mean', 'F-Mean', 'output'
    ]
    rows = rows_by_step(table)
    # No data step was timed (the data existed), so it has no row.
    assert list(rows) == [
        'train HVC', 'evaluate: random initialisation',
        'evaluate: HVC, 240 demo iterations',
        'gain (trained - random initialisation)'
    ]
    random_run = osp.join(work_dir, 'test_random_init', '20240102_000000')
    trained_run = osp.join(work_dir, 'test_trained', '20240102_000100')
    assert rows['evaluate: random initialisation'] == [
        '42 s', '0.420', '0.462', '0.378',
        'masks: ' + osp.join(random_run, 'results')
    ]
    assert rows['evaluate: HVC, 240 demo iterations'] == [
        '59 s', '0.480', '0.527', '0.432',
        f'masks: {osp.join(trained_run, "results")}; overlays: '
        f'{osp.join(trained_run, "vis")}'
    ]
    assert rows['train HVC'] == [
        '2 min 31 s', '', '', '', 'training pictures: ' + osp.join(
            work_dir, 'train', '20240102_000000', 'vis_data', 'vis_image')
    ]
    assert rows['gain (trained - random initialisation)'][1:4] == [
        '+0.060', '+0.065', '+0.054'
    ]


def test_data_step_is_listed_when_timed(tool, work_dir, capsys):
    with open(osp.join(work_dir, 'logs', 'step_times.tsv'), 'a') as f:
        f.write('data\t9.6\n')
    tool.main([work_dir])
    rows = rows_by_step(capsys.readouterr().out)
    assert rows['generate the demo data'][0] == '10 s'
    assert list(rows)[0] == 'generate the demo data'


def test_missing_results_name_the_folder(tool, tmp_path):
    root = str(tmp_path / 'empty')
    os.makedirs(osp.join(root, 'test_random_init', '20240101_000000'))
    with pytest.raises(SystemExit, match='test_random_init.*global_results'):
        tool.main([root])


def test_missing_column_names_file_and_key(tool, work_dir):
    path = osp.join(work_dir, 'test_trained', '20240102_000100', 'results',
                    'global_results-val.csv')
    write(path, 'J-Mean,F-Mean\n0.5,0.4\n')
    with pytest.raises(SystemExit, match=r'global_results-val\.csv.*J&F'):
        tool.main([work_dir])


def test_bad_time_line_names_file_and_line(tool, work_dir):
    write(osp.join(work_dir, 'logs', 'step_times.tsv'), 'train\t12\ntest\n')
    with pytest.raises(SystemExit, match=r'step_times\.tsv:2'):
        tool.main([work_dir])
