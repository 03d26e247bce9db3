"""The files of a resumable evaluation run, and metrics reloading them."""
import hashlib
import os
import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
from mmengine.config import Config

from mmhvc.evaluation.evaluation_run import (
    check_fingerprint, completed_sequences, evaluation_fingerprint,
    find_latest_run, metric_record_dir, read_record, read_run_file,
    record_path, remove_temporary_files, write_record, write_run_file)
from mmhvc.evaluation.metrics import BaseVideoMetric, YouTubeVOSSubmission


def config(**dataset):
    cfg = Config(
        dict(
            model=dict(type='VOSPropagator', topk=15),
            test_dataloader=dict(
                num_workers=2,
                dataset=dict(type='DAVISDataset', data_root='data',
                             **dataset)),
            test_evaluator=dict(type='DAVISMetric'),
            test_cfg=dict(type='TestLoop'),
            work_dir='work'))
    return cfg


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'a.pth'
    path.write_bytes(b'weights')
    return str(path)


def test_fingerprint_covers_what_is_evaluated(tmp_path, checkpoint):
    base = evaluation_fingerprint(config(), checkpoint)
    assert base['checkpoint'] == hashlib.sha256(b'weights').hexdigest()
    assert base['checkpoint_file'] == checkpoint

    other = config()
    other.work_dir = 'elsewhere'
    other.test_dataloader.num_workers = 0
    assert evaluation_fingerprint(other, checkpoint) == base
    other.model.topk = 10
    assert evaluation_fingerprint(other, checkpoint)['config'] != \
        base['config']
    assert evaluation_fingerprint(config(split='train'),
                                  checkpoint)['config'] != base['config']
    (tmp_path / 'b.pth').write_bytes(b'other weights')
    assert evaluation_fingerprint(config(), str(
        tmp_path / 'b.pth'))['checkpoint'] != base['checkpoint']


def test_check_fingerprint_names_both_checkpoints(tmp_path, checkpoint):
    fingerprint = evaluation_fingerprint(config(), checkpoint)
    run = dict(fingerprint=fingerprint, metrics=['davis'], sequences=['a'])
    check_fingerprint('run', run, fingerprint)

    (tmp_path / 'b.pth').write_bytes(b'other weights')
    other = evaluation_fingerprint(config(), str(tmp_path / 'b.pth'))
    with pytest.raises(ValueError) as error:
        check_fingerprint('run', run, other)
    message = str(error.value)
    assert message.startswith('Cannot resume run: it evaluated another '
                              f'checkpoint {checkpoint}')
    assert str(tmp_path / 'b.pth') in message
    assert 'another config' not in message
    changed = evaluation_fingerprint(config(split='train'), checkpoint)
    with pytest.raises(ValueError, match='another config'):
        check_fingerprint('run', run, changed)
    with pytest.raises(ValueError, match='not started by tools/test.py'):
        check_fingerprint('run', dict(run, fingerprint=None), fingerprint)


def test_run_file_round_trip_and_latest_run(tmp_path):
    work_dir = str(tmp_path)
    assert find_latest_run(work_dir) is None
    for name in ('20240101_000000', '20240301_000000'):
        write_run_file(osp.join(work_dir, name), None, ['davis'], ['b', 'a'])
    # A later folder without a run file (a resumed run's own log folder).
    os.makedirs(osp.join(work_dir, '20240401_000000'))
    latest = find_latest_run(work_dir)
    assert latest == osp.join(work_dir, '20240301_000000')
    assert read_run_file(latest) == dict(
        fingerprint=None, metrics=['davis'], sequences=['b', 'a'])

    with open(osp.join(latest, 'evaluation_run.json'), 'w') as f:
        f.write('{"metrics": 3}')
    with pytest.raises(ValueError, match='evaluation_run.json is not an'):
        read_run_file(latest)
    with pytest.raises(FileNotFoundError, match='20240401_000000'):
        read_run_file(osp.join(work_dir, '20240401_000000'))


def test_completed_sequences_need_every_metric(tmp_path):
    run_dir = str(tmp_path)
    run = dict(metrics=['davis', 'extra'], sequences=['c', 'a', 'b/x'])
    for metric, names in (('davis', ['a', 'b/x', 'c']), ('extra', ['b/x',
                                                                   'c'])):
        for name in names:
            write_record(
                record_path(metric_record_dir(run_dir, metric), name),
                dict(seq_name=name))
    assert completed_sequences(run_dir, run) == ['c', 'b/x']
    assert completed_sequences(run_dir, dict(run, metrics=[])) == []


def test_records_keep_numpy_values_exactly(tmp_path):
    result = dict(
        seq_name='bear',
        split='val',
        objects=[dict(name='bear_1', J=(np.float64(0.1) / 3, 0.5, -0.25))],
        counts=np.arange(6, dtype=np.int64).reshape(2, 3),
        ratio=np.float32(1) / 3)
    path = str(tmp_path / 'records' / 'bear.pkl')
    write_record(path, result)
    loaded = read_record(path)
    assert loaded['objects'][0]['J'] == result['objects'][0]['J']
    assert loaded['counts'].dtype == np.int64
    np.testing.assert_array_equal(loaded['counts'], result['counts'])
    assert loaded['ratio'].dtype == np.float32
    assert loaded['ratio'] == result['ratio']
    assert os.listdir(tmp_path / 'records') == ['bear.pkl']


class _Runs:
    """Pickled as a call of os.system."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


def test_records_cannot_run_code(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.pkl'
    path.write_bytes(
        pickle.dumps(dict(seq_name='x', payload=_Runs(f'touch {marker}'))))
    with pytest.raises(
            ValueError,
            match=r'evil\.pkl.*posix\.system|evil'
            r'\.pkl.*os\.system'):
        read_record(str(path))
    assert not marker.exists()
    path.write_bytes(pickle.dumps(['not', 'a', 'record']))
    with pytest.raises(ValueError, match='is not a sequence record'):
        read_record(str(path))


def test_remove_temporary_files(tmp_path):
    (tmp_path / 'results' / 'seq').mkdir(parents=True)
    stale = [
        tmp_path / 'results' / 'seq' / '.00003.png.4242.tmp',
        tmp_path / 'results' / '.video.4242.tmp.mp4'
    ]
    kept = [
        tmp_path / 'results' / 'seq' / '00003.png',
        tmp_path / 'results' / 'seq' / '.hidden'
    ]
    for path in stale + kept:
        path.write_bytes(b'')
    assert sorted(remove_temporary_files(str(tmp_path))) == sorted(
        str(p) for p in stale)
    assert all(p.exists() for p in kept)
    assert not any(p.exists() for p in stale)


class CountMetric(BaseVideoMetric):
    """Keeps each sequence's pixel sum; reports the per-sequence order and
    the float32 mean of the sums."""

    default_prefix = 'count'

    def process_video(self, sample, seq_name):
        return dict(total=np.float32(sample['pred'].sum()) / 7)

    def compute_metrics(self, results):
        self.reported = [r['seq_name'] for r in results]
        return dict(mean=float(np.mean([r['total'] for r in results])))


def samples():
    rng = np.random.default_rng(0)
    return [
        dict(seq_name=name, pred=rng.random((3, 4)))
        for name in ('c', 'a', 'd', 'b')
    ]


def test_metric_reloads_records_in_dataset_order(tmp_path):
    order = [s['seq_name'] for s in samples()]
    straight = CountMetric()
    straight.process(None, samples())
    expected = straight.evaluate(4)
    assert straight.reported == order

    record_dir = str(tmp_path / 'count')
    first = CountMetric()
    first.keep_records(record_dir)
    first.process(None, [samples()[0], samples()[2]])
    assert sorted(os.listdir(record_dir)) == ['c.pkl', 'd.pkl']

    resumed = CountMetric()
    resumed.keep_records(record_dir)
    resumed.resume_records(['c', 'd'], order)
    resumed.process(None, [samples()[1], samples()[3]])
    assert resumed.evaluate(2) == expected == {
        'count/mean':
        float(np.mean([np.float32(s['pred'].sum()) / 7 for s in samples()]))
    }
    assert resumed.reported == order
    assert resumed.results == []


def youtube_vos_samples():
    rng = np.random.default_rng(1)
    return [
        dict(
            seq_name=name,
            frame_names=['00000', '00005', '00010'],
            eval_frames=['00000', '00010'],
            pred_masks=rng.integers(0, 3, (3, 4, 6), dtype=np.uint8))
        for name in ('v1', 'v0', 'v2')
    ]


def zip_content(path):
    with zipfile.ZipFile(path) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def test_resumed_submission_zips_every_video(tmp_path):
    straight = YouTubeVOSSubmission(output_dir=str(tmp_path / 'straight'))
    straight.process(None, youtube_vos_samples())
    assert straight.evaluate(3) == {
        'youtube_vos/num_videos': 3,
        'youtube_vos/num_frames': 6
    }

    run = str(tmp_path / 'run')
    record_dir = metric_record_dir(run, 'youtube_vos')
    first = YouTubeVOSSubmission(output_dir=run)
    first.keep_records(record_dir)
    first.process(None, youtube_vos_samples()[:1])
    resumed = YouTubeVOSSubmission(output_dir=run)
    resumed.keep_records(record_dir)
    resumed.resume_records(['v1'], ['v1', 'v0', 'v2'])
    resumed.process(None, youtube_vos_samples()[1:])
    assert resumed.evaluate(2) == {
        'youtube_vos/num_videos': 3,
        'youtube_vos/num_frames': 6
    }
    assert zip_content(osp.join(run, 'submission.zip')) == zip_content(
        str(tmp_path / 'straight' / 'submission.zip'))
