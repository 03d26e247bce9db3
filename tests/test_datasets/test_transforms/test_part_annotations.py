import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmhvc.datasets.transforms.part_annotations import (LoadPartAnnotations,
                                                        read_class_map)

H, W = 6, 8


def write_maps(folder, maps, mode='L'):
    paths = []
    for t, labels in enumerate(maps):
        path = osp.join(folder, f'{t:05d}.png')
        Image.fromarray(labels).convert(mode).save(path)
        paths.append(path)
    return paths


def maps_with_late_part():
    """Part 4 from frame 0, part 9 first appears in frame 2."""
    maps = np.zeros((3, H, W), dtype=np.uint8)
    maps[:, 1:3, 1:4] = 4
    maps[2:, 4:6, 5:8] = 9
    maps[:, 0, 7] = 255
    return maps


def results_for(paths):
    return dict(ann_paths=paths, ori_shape=(H, W), seq_name='v')


def test_first_frame_gives_its_parts(tmp_path):
    maps = maps_with_late_part()
    out = LoadPartAnnotations()(results_for(write_maps(str(tmp_path), maps)))
    np.testing.assert_array_equal(out['gt_masks'], maps)
    assert out['given_frames'] == [0]
    assert out['given_object_ids'] == [[4]]
    assert out['object_ids'] == [4]
    expected = maps[0].copy()
    expected[expected == 255] = 0
    np.testing.assert_array_equal(out['given_masks'], expected[None])


def test_new_parts_given_at_first_appearance(tmp_path):
    maps = maps_with_late_part()
    out = LoadPartAnnotations(new_parts_given=True)(
        results_for(write_maps(str(tmp_path), maps)))
    assert out['given_frames'] == [0, 2]
    assert out['given_object_ids'] == [[4], [9]]
    assert out['object_ids'] == [4, 9]
    # the later given mask only holds the new part, void elsewhere
    assert set(np.unique(out['given_masks'][1]).tolist()) == {9, 255}


def test_palette_images_are_read_as_ids(tmp_path):
    maps = maps_with_late_part()
    paths = write_maps(str(tmp_path), maps, mode='P')
    np.testing.assert_array_equal(read_class_map(paths[2], 20), maps[2])


def test_bad_annotations_name_the_file(tmp_path):
    maps = maps_with_late_part()
    maps[1, 3, 3] = 42
    paths = write_maps(str(tmp_path), maps)
    with pytest.raises(ValueError, match=rf'{paths[1]}.*\[42\]'):
        LoadPartAnnotations()(results_for(paths))
    rgb = osp.join(str(tmp_path), 'rgb.png')
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(rgb)
    with pytest.raises(ValueError, match=rf'{rgb} is a "RGB"'):
        read_class_map(rgb, 20)
    with pytest.raises(ValueError, match=rf'{paths[0]} is 8x6.*7x5'):
        LoadPartAnnotations()(dict(ann_paths=paths, ori_shape=(5, 7)))


def test_first_frame_without_parts_is_an_error(tmp_path):
    maps = np.zeros((2, H, W), dtype=np.uint8)
    maps[1, 2, 2] = 3
    paths = write_maps(str(tmp_path), maps)
    with pytest.raises(
            ValueError, match=rf'No part is labelled in {paths[0]}'):
        LoadPartAnnotations()(results_for(paths))
    out = LoadPartAnnotations(new_parts_given=True)(results_for(paths))
    assert out['given_frames'] == [1]
