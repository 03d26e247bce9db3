import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from mmhvc.evaluation.metrics.base_video_metric import BaseVideoMetric


class FrameCounter(BaseVideoMetric):
    """Counts the frames of the videos; one table of them."""

    default_prefix = 'frames'

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
