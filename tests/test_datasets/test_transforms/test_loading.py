import cv2
import numpy as np
import pytest

from mmhvc.datasets.transforms import LoadImageWithCheck, UnreadableImageError
from mmhvc.registry import TRANSFORMS


def test_loads_bgr_image(tmp_path):
    img = np.zeros((6, 9, 3), np.uint8)
    img[..., 0] = 200  # blue in BGR
    path = str(tmp_path / 'blue.png')
    cv2.imwrite(path, img)
    loader = TRANSFORMS.build(dict(type='LoadImageWithCheck'))
    assert isinstance(loader, LoadImageWithCheck)
    out = loader(dict(img_path=path))
    assert np.array_equal(out['img'], img)
    assert out['img_shape'] == (6, 9)
    assert out['ori_shape'] == (6, 9)


@pytest.mark.parametrize('content', [b'', b'\xff\xd8\xff\xe0 not a jpeg'])
def test_corrupt_file_names_the_file(tmp_path, content):
    path = tmp_path / 'corrupt.jpg'
    path.write_bytes(content)
    with pytest.raises(UnreadableImageError, match='corrupt.jpg') as info:
        LoadImageWithCheck()(dict(img_path=str(path)))
    assert info.value.path == str(path)


def test_missing_file_names_the_file(tmp_path):
    path = str(tmp_path / 'missing.jpg')
    with pytest.raises(UnreadableImageError, match='missing.jpg'):
        LoadImageWithCheck()(dict(img_path=path))
    with pytest.raises(KeyError, match='img_path'):
        LoadImageWithCheck()(dict())
