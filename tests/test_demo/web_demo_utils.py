"""Inputs of the web demo tests: a short clip of moving squares and its
first-frame mask."""
import os.path as osp
import sys

import numpy as np
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')
# demo/web is imported as the package `web`, as demo/web_demo.py does.
sys.path.insert(0, osp.join(REPO, 'demo'))

SIZE = (64, 64)
NUM_FRAMES = 6


def moving_squares(num_frames=NUM_FRAMES, size=SIZE):
    """Frames (BGR) of two textured squares moving right and down, and the
    first frame's label map (ids 1 and 2)."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 100, size + (3, ), dtype=np.uint8)
    textures = rng.integers(130, 256, (2, 14, 14, 3), dtype=np.uint8)
    frames = []
    for t in range(num_frames):
        frame = background.copy()
        frame[8:22, 6 + 3 * t:20 + 3 * t] = textures[0]
        frame[36 + 2 * t:50 + 2 * t, 30:44] = textures[1]
        frames.append(frame)
    mask = np.zeros(size, np.uint8)
    mask[8:22, 6:20] = 1
    mask[36:50, 30:44] = 2
    return frames, mask


def save_indexed(path, mask, colours=((0, 0, 0), (255, 0, 0), (0, 255, 0))):
    image = Image.fromarray(mask, mode='P')
    flat = [c for colour in colours for c in colour]
    image.putpalette(flat + [0] * (768 - len(flat)))
    image.save(path)
