"""The visualisation tools and the drawing functions behind them."""
import hashlib
import importlib.util
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmhvc.models.losses.hybrid_correspondence_loss import \
    coord_positive_mask
from mmhvc.apis import init_model
from mmhvc.visualization import (affinity_heatmaps, best_matches,
                                 cells_to_pixels, draw_crop_pair,
                                 fit_feature_pca, flow_to_rgb,
                                 pca_to_rgb,
                                 pixels_to_cells, select_positive_pairs)
from mmhvc.visualization.correspondence import VIEW_COLORS
from mmhvc.visualization.layout import add_title

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 32, 48
GAP = 4


def title_height():
    return add_title(np.zeros((1, 1, 3), np.uint8), 'x').shape[0] - 1


def load_tool(name):
    path = osp.join(REPO, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(name, argv, monkeypatch):
    monkeypatch.setattr(sys, 'argv', [name] + [str(a) for a in argv])
    load_tool(name).main()


@pytest.fixture(scope='module')
def tiny_setup(tmp_path_factory):
    """A one-stage propagation config (64 channels at stride 4), a
    checkpoint of a random model of it, and small frames."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('vis')
    config = root / 'tiny_propagation.py'
    base = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')
    config.write_text(
        f"_base_ = ['{base}']\n"
        "model = dict(backbone=dict(num_stages=1, strides=(1, ), "
        "out_indices=(0, )))\n")
    torch.manual_seed(0)
    model = init_model(str(config))
    ckpt = root / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), str(ckpt))
    torch.manual_seed(1)
    other = init_model(str(config))
    ckpt_b = root / 'tiny_b.pth'
    torch.save(dict(state_dict=other.state_dict()), str(ckpt_b))

    rng = np.random.default_rng(0)
    frames = root / 'frames'
    frames.mkdir()
    base_img = rng.integers(0, 256, (H, W + 8, 3), dtype=np.uint8)
    for t in range(3):
        cv2.imwrite(str(frames / f'{t:05d}.png'), base_img[:, 4 * t:4 * t + W])
    return dict(
        root=root,
        config=str(config),
        ckpt=str(ckpt),
        ckpt_b=str(ckpt_b),
        frames=frames)


# --- correspondence -----------------------------------------------------


def test_heatmaps_are_softmax_over_b():
    rng = np.random.default_rng(0)
    feat_a = torch.nn.functional.normalize(
        torch.from_numpy(rng.normal(size=(5, 3, 4))).float(), dim=0)
    feat_b = torch.nn.functional.normalize(
        torch.from_numpy(rng.normal(size=(5, 2, 6))).float(), dim=0)
    cells = torch.tensor([[0, 0], [2, 3]])
    maps = affinity_heatmaps(feat_a, feat_b, cells, temperature=0.1)
    assert maps.shape == (2, 2, 6)
    assert torch.allclose(maps.sum((1, 2)), torch.ones(2), atol=1e-6)
    a, b = feat_a.numpy(), feat_b.numpy()
    for k, (r, c) in enumerate(cells.tolist()):
        logits = np.einsum('c,chw->hw', a[:, r, c], b) / 0.1
        expected = np.exp(logits - logits.max())
        expected /= expected.sum()
        np.testing.assert_allclose(maps[k].numpy(), expected, atol=1e-6)
        assert best_matches(maps)[k].tolist() == list(
            np.unravel_index(expected.argmax(), expected.shape))


def test_pixel_cell_mapping():
    # 48 px wide, 12 cells: 4 px per cell; pixel 5 lies in cell 1
    cells = pixels_to_cells(
        torch.tensor([[5., 0.], [47., 31.]]), (32, 48), (8, 12))
    assert cells.tolist() == [[0, 1], [7, 11]]
    centres = cells_to_pixels(cells, (32, 48), (8, 12))
    assert centres.tolist() == [[5.5, 1.5], [45.5, 29.5]]
    with pytest.raises(ValueError, match='outside the 48x32 image'):
        pixels_to_cells(torch.tensor([[48., 0.]]), (32, 48), (8, 12))


def test_positive_pairs_are_positive_and_nearest():
    boxes = torch.tensor([[0.0, 0.0, 0.6, 0.6], [0.3, 0.3, 1.0, 1.0]])
    pairs = select_positive_pairs(boxes, (6, 6), 0.5, num_pairs=5)
    mask = coord_positive_mask(boxes[:1], boxes[1:], (6, 6), 0.5)[0]
    assert 0 < len(pairs) <= 5
    for i, j in pairs.tolist():
        assert mask[i, j]
        # nearest positive partner, computed from the bin centres directly
        ri, ci = divmod(i, 6)
        xi, yi = 0.6 * (ci + .5) / 6, 0.6 * (ri + .5) / 6
        best = min((((0.3 + 0.7 * (c + .5) / 6 - xi)**2 +
                     (0.3 + 0.7 * (r + .5) / 6 - yi)**2), r * 6 + c)
                   for r in range(6) for c in range(6) if mask[i, r * 6 + c])
        assert j == best[1]
    same = torch.tensor([[0.1, 0.1, 0.9, 0.9]] * 2)
    pairs = select_positive_pairs(same, (4, 4), 0.1, num_pairs=16)
    assert pairs[:, 0].tolist() == pairs[:, 1].tolist() == list(range(16))
    apart = torch.tensor([[0., 0., .2, .2], [.8, .8, 1., 1.]])
    assert len(select_positive_pairs(apart, (4, 4), 0.1, 3)) == 0


def test_crop_pair_drawing_places_boxes():
    source = np.zeros((40, 60, 3), np.uint8)
    views = [np.full((20, 20, 3), 50, np.uint8)] * 2
    boxes = torch.tensor([[0.5, 0.25, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5]])
    canvas = draw_crop_pair(source, views, boxes, torch.zeros(0, 2), (4, 4))
    panel_w = 30  # 60 px wide source at height 20
    assert canvas.shape == (20, panel_w + 2 * GAP + 40, 3)
    # box 1's left edge at x = 0.5 * 59 * 0.5, rows 0.25 * 39 * 0.5 .. 19
    x = round(0.5 * 59 * 20 / 40)
    y = round(0.25 * 39 * 20 / 40)
    assert tuple(canvas[y, x + 5]) == VIEW_COLORS[0]  # top edge
    assert tuple(canvas[15, x]) == VIEW_COLORS[0]  # left edge
    assert tuple(canvas[3, 0]) == VIEW_COLORS[1]


def test_flow_colours():
    field = np.zeros((2, 1, 4))
    field[:, 0, 0] = (1, 0)  # right, longest
    field[:, 0, 1] = (-1, 0)  # left
    field[:, 0, 2] = (0.5, 0)  # right, half length
    rgb = flow_to_rgb(field)
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[0, 1]) == (0, 255, 255)
    assert tuple(rgb[0, 2]) == (255, 127, 127) or \
        tuple(rgb[0, 2]) == (255, 128, 128)
    assert tuple(rgb[0, 3]) == (255, 255, 255)


def test_vis_correspondence_images(tiny_setup, tmp_path, monkeypatch):
    frames = sorted(tiny_setup['frames'].iterdir())
    out = tmp_path / 'corr.png'
    run_tool('vis_correspondence', [
        tiny_setup['config'], tiny_setup['ckpt'], frames[0], frames[1],
        '--points', '5,5', '40,20', '--out', out
    ], monkeypatch)
    image = cv2.imread(str(out))
    assert image.shape == (H + title_height(), 3 * W + 2 * GAP, 3)
    assert image.std() > 0


def test_vis_correspondence_video_frames(tiny_setup, tmp_path, monkeypatch):
    out = tmp_path / 'corr_video.png'
    run_tool('vis_correspondence', [
        tiny_setup['config'], tiny_setup['ckpt'], '--video',
        tiny_setup['frames'], '--frames', 2, 0, '--points', '10,10', '--out',
        out, '--max-size', 24
    ], monkeypatch)
    image = cv2.imread(str(out))
    assert image.shape == (16 + title_height(), 2 * 24 + GAP, 3)


def test_vis_correspondence_rejects_point_outside(tiny_setup, tmp_path,
                                                  monkeypatch):
    frames = sorted(tiny_setup['frames'].iterdir())
    with pytest.raises(ValueError, match='outside the 48x32 image'):
        run_tool('vis_correspondence', [
            tiny_setup['config'], tiny_setup['ckpt'], frames[0], frames[1],
            '--points', f'{W},3', '--out', tmp_path / 'x.png'
        ], monkeypatch)


# --- features -------------------------------------------------------------


def test_pca_recovers_axes_with_fixed_signs():
    rng = np.random.default_rng(0)
    axes = np.linalg.qr(rng.normal(size=(6, 3)))[0].T  # (3, 6) orthonormal
    # centred, mutually orthogonal coefficient columns with variances
    # 25, 4 and 0.25: the principal axes are exactly `axes`
    z = rng.normal(size=(500, 3))
    z -= z.mean(0)
    coeffs = np.linalg.qr(z)[0] * np.sqrt(499) * np.array([5., 2., 0.5])
    data = coeffs @ axes + 3.

    def as_maps(rows):
        return torch.from_numpy(rows.T.reshape(6, 20, 25).copy())

    feats = as_maps(data)
    pca = fit_feature_pca(feats)
    largest = np.abs(axes).argmax(1)
    expected = axes * np.sign(axes[np.arange(3), largest])[:, None]
    np.testing.assert_allclose(pca.components.numpy(), expected, atol=1e-8)
    np.testing.assert_allclose(
        pca.variances.numpy(), [25., 4., 0.25], rtol=1e-8)
    np.testing.assert_allclose(pca.mean.numpy(), data.mean(0), atol=1e-12)
    rgb = pca_to_rgb(feats, pca)
    assert rgb.shape == (20, 25, 3) and rgb.dtype == np.uint8
    # red follows the first coefficient (up to the sign fixed above)
    sign = np.sign(axes[0, largest[0]])
    corr = np.corrcoef(sign * coeffs[:, 0], rgb[..., 0].ravel())[0, 1]
    assert corr > 0.95
    # the same input gives the same image
    assert np.array_equal(rgb, pca_to_rgb(feats, fit_feature_pca(feats)))
    # negated coefficients have the same axes, and the sign rule keeps them
    flipped = fit_feature_pca(as_maps(-coeffs @ axes + 3.))
    np.testing.assert_allclose(flipped.components, pca.components, atol=1e-8)


def file_digest(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def test_vis_features_image_deterministic(tiny_setup, tmp_path, monkeypatch):
    frame = sorted(tiny_setup['frames'].iterdir())[0]
    outs = []
    for k in range(2):
        out = tmp_path / f'pca{k}.png'
        run_tool('vis_features', [
            tiny_setup['config'], tiny_setup['ckpt'], tiny_setup['ckpt_b'],
            '--random-init', '--seed', 3, '--input', frame, '--out', out
        ], monkeypatch)
        outs.append(out)
    image = cv2.imread(str(outs[0]))
    # input + two checkpoints + random init
    assert image.shape == (H + title_height(), 4 * W + 3 * GAP, 3)
    assert file_digest(outs[0]) == file_digest(outs[1])
    # the columns differ: different weights give different colours (the
    # checkpoints were initialised with seeds 0 and 1, the random column 3)
    cols = [
        image[title_height():, k * (W + GAP):k * (W + GAP) + W]
        for k in range(1, 4)
    ]
    assert not np.array_equal(cols[0], cols[1])
    assert not np.array_equal(cols[0], cols[2])


def test_vis_features_video_outputs(tiny_setup, tmp_path, monkeypatch):
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(
        str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (W, H))
    for path in sorted(tiny_setup['frames'].iterdir()):
        writer.write(cv2.imread(str(path)))
    writer.release()
    outs = [tmp_path / 'pca.mp4', tmp_path / 'pca.gif', tmp_path / 'pca.png']
    run_tool('vis_features', [
        tiny_setup['config'], tiny_setup['ckpt'], '--input', video, '--out',
        *outs, '--rows', 2, '--fit-frames', 2
    ], monkeypatch)
    size = (H + title_height(), 2 * W + GAP)
    capture = cv2.VideoCapture(str(outs[0]))
    count = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        assert frame.shape[:2] == size
        count += 1
    assert count == 3
    gif = Image.open(outs[1])
    assert gif.n_frames == 3 and gif.size == (size[1], size[0])
    strip = cv2.imread(str(outs[2]))
    # frames 0 and 2, each with its title above the composed row
    assert strip.shape[:2] == (2 * (size[0] + title_height()) + GAP, size[1])


def test_vis_features_frame_folder_consistent_colours(tiny_setup, tmp_path,
                                                      monkeypatch):
    out = tmp_path / 'pca.gif'
    run_tool('vis_features', [
        tiny_setup['config'], tiny_setup['ckpt'], '--input',
        tiny_setup['frames'], '--out', out, '--max-frames', 2
    ], monkeypatch)
    assert Image.open(out).n_frames == 2


# --- logs -------------------------------------------------------------------


def write_log(path, times):
    with open(path, 'w') as f:
        for k, t in enumerate(times):
            f.write(
                json.dumps(
                    dict(
                        lr=1e-3,
                        loss=-k,
                        loss_spatial=-k / 2,
                        loss_temporal=-k / 2,
                        ema_momentum=0.99 + k / 1000,
                        time=t,
                        data_time=0.01,
                        iter=10 * (k + 1),
                        step=10 * (k + 1))) + '\n')
        f.write(json.dumps(dict(step=10 * len(times))) + '\n')


def test_plot_curve(tmp_path, monkeypatch):
    logs = [tmp_path / 'a.json', tmp_path / 'b.json']
    write_log(logs[0], [1.0, 0.5, 0.7])
    write_log(logs[1], [0.2, 0.3])
    out = tmp_path / 'curves.png'
    run_tool('analyze_logs', [
        'plot_curve', *logs, '--keys', 'loss', 'loss_spatial', 'loss_temporal',
        'lr', 'ema_momentum', '--legend', 'a', 'b', '--out', out, '--dpi', 50
    ], monkeypatch)
    # 6 x (2.2 * 5) inches at 50 dpi
    assert Image.open(out).size == (300, 550)
    with pytest.raises(KeyError, match='no "grad_norm"'):
        run_tool('analyze_logs',
                 ['plot_curve', logs[0], '--keys', 'grad_norm', '--out', out],
                 monkeypatch)


def test_cal_train_time(tmp_path, monkeypatch, capsys):
    log = tmp_path / 'scalars.json'
    write_log(log, [3.0, 0.5, 0.7, 0.3])
    run_tool('analyze_logs', ['cal_train_time', log], monkeypatch)
    text = capsys.readouterr().out
    times = np.array([0.5, 0.7, 0.3])  # the first window is left out
    assert f'average iter time: {times.mean():.4f} s/iter' in text
    assert f'time std over windows: {times.std():.4f}' in text
    assert 'slowest window: iteration 30, 0.7000' in text
    assert 'fastest window: iteration 40, 0.3000' in text
