"""Fixtures of the web demo tests: the clip as an mp4 with its mask PNG,
and a checkpoint of a randomly initialised propagation model."""
import cv2
import pytest
import torch
from web_demo_utils import CONFIG, SIZE, moving_squares, save_indexed

from mmhvc.apis import init_model


@pytest.fixture(scope='session')
def clip(tmp_path_factory):
    """``(mp4 path, indexed mask path, first-frame mask)`` of
    :func:`moving_squares`."""
    root = tmp_path_factory.mktemp('clip')
    frames, mask = moving_squares()
    path = str(root / 'squares.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             (SIZE[1], SIZE[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()
    mask_path = str(root / 'first.png')
    save_indexed(mask_path, mask)
    return path, mask_path, mask


@pytest.fixture(scope='session')
def checkpoint(tmp_path_factory):
    """A checkpoint of the randomly initialised demo propagation model."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'random.pth')
    torch.manual_seed(0)
    model = init_model(CONFIG)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='session')
def model(checkpoint):
    return init_model(CONFIG, checkpoint)
