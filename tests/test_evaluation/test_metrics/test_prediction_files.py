import numpy as np
import pytest
from PIL import Image

from mmhvc.evaluation.metrics.prediction_files import save_label_maps


def test_selected_frames_written_as_indexed_pngs(tmp_path):
    maps = np.stack([np.full((2, 3), t, dtype=np.int64) for t in range(3)])
    palette = np.zeros((4, 3), dtype=np.uint8)
    palette[2] = (1, 2, 3)
    out_dir = tmp_path / 'seq'
    save_label_maps(str(out_dir), maps, ['a', 'b', 'c'], [0, 2], palette)
    assert sorted(p.name for p in out_dir.iterdir()) == ['a.png', 'c.png']
    image = Image.open(out_dir / 'c.png')
    assert image.mode == 'P'
    assert np.asarray(image).tolist() == [[2, 2, 2], [2, 2, 2]]
    assert image.getpalette()[6:9] == [1, 2, 3]


def test_bad_label_maps_name_the_folder(tmp_path):
    maps = np.zeros((2, 2, 2), dtype=np.int64)
    with pytest.raises(ValueError, match=r'1 frame names for 2 .*seq'):
        save_label_maps(str(tmp_path / 'seq'), maps, ['a'], [0])
    maps[1, 0, 0] = 256
    with pytest.raises(ValueError, match=r'seq hold ids above 255'):
        save_label_maps(str(tmp_path / 'seq'), maps, ['a', 'b'], [0])
    assert not (tmp_path / 'seq').exists()
