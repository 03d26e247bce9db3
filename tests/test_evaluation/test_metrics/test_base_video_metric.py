import os
import os.path as osp

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from mmhvc.evaluation.metrics.base_video_metric import BaseVideoMetric


class FrameCounter(BaseVideoMetric):
    """Counts the frames of the videos; one table of them. Its results
    folder holds one file, ``count.txt``."""

    default_prefix = 'frames'

    def write_sequence(self, sample, folder):
        with open(osp.join(folder, 'count.txt'), 'w') as f:
            f.write(str(len(sample['pred_masks'])))
        if sample['seq_name'] == 'broken':
            raise RuntimeError('killed while writing')

    def read_sequence(self, folder, sample):
        path = osp.join(folder, 'count.txt')
        if not osp.isfile(path):
            raise FileNotFoundError(f'not found: {path}')
        with open(path) as f:
            return dict(pred_masks=torch.zeros(int(f.read()), 2, 2))

    def process_video(self, sample, seq_name):
        return dict(num_frames=len(sample['pred_masks']))

    def compute_metrics(self, results):
        rows = [['Sequence', 'Frames']] + [[r['seq_name'],
                                            str(r['num_frames'])]
                                           for r in results]
        self.report([('Frame counts', 'frame_counts', rows)], results,
                    MMLogger.get_current_instance())
        return dict(total=sum(r['num_frames'] for r in results))


def video(name, num_frames, split='val'):
    sample = BaseDataElement(metainfo=dict(seq_name=name, split=split))
    sample.pred_masks = torch.zeros(num_frames, 2, 2, dtype=torch.uint8)
    return sample


def test_results_carry_name_split_and_the_subclass_fields():
    metric = FrameCounter()
    metric.process(None, [video('a', 3), video('b', 2, None).to_dict()])
    assert metric.results == [
        dict(seq_name='a', split='val', num_frames=3),
        dict(seq_name='b', split=None, num_frames=2)
    ]


def test_names_are_prefixed_and_tables_saved_under_the_split(tmp_path):
    metric = FrameCounter(output_dir=str(tmp_path))
    assert metric.prefix == 'frames'
    metric.process(None, [video('a', 3), video('b', 2, 'test')])
    assert metric.evaluate(2) == {'frames/total': 5}
    assert (tmp_path / 'frame_counts-test+val.csv').read_text() == \
        'Sequence,Frames\na,3\nb,2\n'

    metric = FrameCounter(
        split='train', output_dir=str(tmp_path), prefix='x')
    metric.process(None, [video('a', 1)])
    assert metric.evaluate(1) == {'x/total': 1}
    assert (tmp_path / 'frame_counts-train.csv').is_file()


def test_sample_without_name_or_output_dir():
    metric = FrameCounter()
    with pytest.raises(KeyError, match="'seq_name'"):
        metric.process(None, [BaseDataElement(metainfo=dict(split='val'))])
    with pytest.raises(ValueError,
                       match='FrameCounter needs an output_dir to save'):
        metric.require_output_dir('to save')
    metric.output_dir = 'out'
    assert metric.require_output_dir('to save') == 'out'


def test_subclass_must_process_videos():

    class Incomplete(BaseVideoMetric):
        default_prefix = 'none'

        def compute_metrics(self, results):
            return {}

    with pytest.raises(NotImplementedError):
        Incomplete().process(None, [video('a', 1)])


class GroundTruth:
    """A dataset stand-in: data infos and packed samples of videos."""

    def __init__(self, names, split='val'):
        self.names, self.split = names, split

    def __len__(self):
        return len(self.names)

    def get_data_info(self, index):
        return dict(seq_name=self.names[index], split=self.split)

    def __getitem__(self, index):
        return dict(
            inputs=None,
            data_samples=BaseDataElement(
                metainfo=self.get_data_info(index)))


def test_each_sequence_folder_appears_only_complete(tmp_path):
    metric = FrameCounter(output_dir=str(tmp_path))
    metric.process(None, [video('a', 3), video('group/b', 2)])
    assert (tmp_path / 'a' / 'count.txt').read_text() == '3'
    assert (tmp_path / 'group' / 'b' / 'count.txt').read_text() == '2'
    with pytest.raises(RuntimeError, match='killed'):
        metric.process(None, [video('broken', 1)])
    assert sorted(os.listdir(tmp_path)) == ['a', 'group']


def test_a_folder_scores_as_the_run_that_wrote_it(tmp_path):
    metric = FrameCounter(output_dir=str(tmp_path / 'run'))
    metric.process(None, [video('a', 3), video('b', 2)])
    assert metric.evaluate(2) == {'frames/total': 5}
    table = (tmp_path / 'run' / 'frame_counts-val.csv').read_text()
    os.remove(tmp_path / 'run' / 'frame_counts-val.csv')

    scorer = FrameCounter()
    assert scorer.score_folder(
        str(tmp_path / 'run'), GroundTruth(['a', 'b'])) == {
            'frames/total': 5
        }
    assert (tmp_path / 'run' / 'frame_counts-val.csv').read_text() == table


def test_missing_sequences_are_named(tmp_path):
    metric = FrameCounter(output_dir=str(tmp_path))
    metric.process(None, [video('a', 3)])
    with pytest.raises(FileNotFoundError,
                       match=r'no results of 2 of the 3 sequences: b, c$'):
        FrameCounter().score_folder(
            str(tmp_path), GroundTruth(['a', 'b', 'c']))
    os.remove(tmp_path / 'a' / 'count.txt')
    with pytest.raises(FileNotFoundError, match='count.txt'):
        FrameCounter().score_folder(str(tmp_path), GroundTruth(['a']))
