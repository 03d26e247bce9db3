import io
import zipfile

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement
from PIL import Image

from mmhvc.evaluation import YouTubeVOSSubmission
from mmhvc.registry import METRICS


def make_sample(name, num_frames, eval_frames, palette=None):
    """A propagated video whose frame t is filled with the value t."""
    frame_names = [f'{5 * i:05d}' for i in range(num_frames)]
    pred = np.stack(
        [np.full((6, 8), t, dtype=np.uint8) for t in range(num_frames)])
    sample = BaseDataElement(
        metainfo=dict(
            seq_name=name,
            frame_names=frame_names,
            eval_frames=eval_frames,
            palette=palette))
    sample.pred_masks = torch.from_numpy(pred)
    return sample


def test_only_eval_frames_written_and_zipped(tmp_path):
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[2] = (10, 20, 30)
    metric = YouTubeVOSSubmission(output_dir=str(tmp_path))
    metric.process({}, [
        make_sample('vid_a', 4, ['00005', '00015'], palette),
        make_sample('vid_b', 3, [0, 2]).to_dict(),
    ])
    counts = metric.evaluate(2)
    assert counts == {
        'youtube_vos/num_videos': 2,
        'youtube_vos/num_frames': 4
    }

    ann_dir = tmp_path / 'Annotations'
    assert sorted(p.name for p in (ann_dir / 'vid_a').iterdir()) == [
        '00005.png', '00015.png'
    ]
    assert sorted(p.name for p in (ann_dir / 'vid_b').iterdir()) == [
        '00000.png', '00010.png'
    ]
    image = Image.open(ann_dir / 'vid_b' / '00010.png')
    assert image.mode == 'P'
    assert (np.asarray(image) == 2).all()
    colours = np.array(
        Image.open(ann_dir / 'vid_a' / '00005.png').getpalette()).reshape(
            -1, 3)
    assert tuple(colours[2]) == (10, 20, 30)

    with zipfile.ZipFile(tmp_path / 'submission.zip') as archive:
        names = archive.namelist()
        assert all(name.startswith('Annotations/') for name in names)
        files = sorted(name for name in names if not name.endswith('/'))
        assert files == [
            'Annotations/vid_a/00005.png', 'Annotations/vid_a/00015.png',
            'Annotations/vid_b/00000.png', 'Annotations/vid_b/00010.png'
        ]
        zipped = Image.open(
            io.BytesIO(archive.read('Annotations/vid_a/00015.png')))
        assert (np.asarray(zipped) == 3).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'Annotations', 'submission.zip'
    ]


def test_bad_eval_frames(tmp_path):
    metric = YouTubeVOSSubmission(output_dir=str(tmp_path))
    with pytest.raises(KeyError, match="'00007'"):
        metric.process({}, [make_sample('vid', 3, ['00007'])])
    with pytest.raises(IndexError, match='index 3'):
        metric.process({}, [make_sample('vid', 3, [3])])
    sample = make_sample('vid', 3, ['00000']).to_dict()
    del sample['eval_frames']
    with pytest.raises(KeyError, match='eval_frames'):
        metric.process({}, [sample])


def test_registry(tmp_path):
    metric = METRICS.build(
        dict(type='YouTubeVOSSubmission', output_dir=str(tmp_path)))
    assert isinstance(metric, YouTubeVOSSubmission)
    assert metric.prefix == 'youtube_vos'
    metric = YouTubeVOSSubmission()
    with pytest.raises(ValueError, match='output_dir'):
        metric.process({}, [make_sample('vid', 3, [0])])
