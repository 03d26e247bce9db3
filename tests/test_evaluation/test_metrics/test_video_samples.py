import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.evaluation.metrics.video_samples import (get_array,
                                                    get_label_maps, get_meta,
                                                    sample_to_dict,
                                                    scored_frames)


def make_sample():
    sample = BaseDataElement(
        metainfo=dict(seq_name='bear', given_frames=[0, 2]))
    sample.pred_masks = torch.tensor([[[0, 1], [2, 1]]] * 3)
    sample.pred_keypoints = torch.zeros(3, 15, 2)
    return sample


def test_sample_to_dict_accepts_elements_and_dicts():
    sample = make_sample()
    as_dict = sample_to_dict(sample)
    assert as_dict['seq_name'] == 'bear'
    assert sample_to_dict(as_dict) is as_dict
    with pytest.raises(TypeError, match='got list'):
        sample_to_dict([sample])


def test_get_meta_names_the_key_and_the_sequence():
    sample = sample_to_dict(make_sample())
    assert get_meta(sample, 'given_frames') == [0, 2]
    with pytest.raises(KeyError, match="'bear' has no 'frame_names'"):
        get_meta(sample, 'frame_names')


def test_get_array_unwraps_tensors_and_pixel_data():
    sample = sample_to_dict(make_sample())
    keypoints = get_array(sample, 'pred_keypoints', 3)
    assert isinstance(keypoints, np.ndarray)
    assert keypoints.shape == (3, 15, 2) and keypoints.dtype == np.float32
    sample['gt_visible'] = dict(data=[[True, False]])
    np.testing.assert_array_equal(
        get_array(sample, 'gt_visible', 2), [[True, False]])
    with pytest.raises(ValueError,
                       match=r"'pred_keypoints' of video 'bear' must have 2 "
                       r'dimensions, got shape \(3, 15, 2\)'):
        get_array(sample, 'pred_keypoints', 2)


def test_get_label_maps_needs_3d_integers():
    sample = sample_to_dict(make_sample())
    maps = get_label_maps(sample, 'pred_masks')
    assert maps.shape == (3, 2, 2)
    assert maps[0].tolist() == [[0, 1], [2, 1]]
    sample['gt_masks'] = np.zeros((3, 2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="'gt_masks' of sequence 'bear'.*"
                       'integer label maps.*float32'):
        get_label_maps(sample, 'gt_masks')
    sample['gt_masks'] = np.zeros((2, 2), dtype=np.uint8)
    with pytest.raises(ValueError, match=r'shape \(2, 2\)'):
        get_label_maps(sample, 'gt_masks')


def test_scored_frames_leave_out_the_given_ones():
    sample = sample_to_dict(make_sample())
    assert scored_frames(sample, 5, score_given_frames=True) == [0, 1, 2, 3, 4]
    assert scored_frames(sample, 5, score_given_frames=False) == [1, 3, 4]
    del sample['given_frames']
    assert scored_frames(sample, 2, score_given_frames=True) == [0, 1]
    with pytest.raises(KeyError, match='given_frames'):
        scored_frames(sample, 2, score_given_frames=False)
