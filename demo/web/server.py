"""The web demo's HTTP server: a Flask app around :mod:`pipeline`.

One page (``templates/index.html`` with ``static/page.js``) talks to a
small JSON API:

- ``POST /api/video``: an uploaded video / zip of frames (``video``) or a
  demo sequence (``demo``) becomes a *video session*; the answer gives its
  frame count, size and the time a run would take.
- ``GET /api/video/<key>/frame/<t>``: frame t as PNG (for painting and the
  correspondence view); ``/api/video/<key>/demo-mask``: a demo's mask.
- ``POST /api/run``: check the first-frame mask (painted layers, an
  uploaded PNG or the demo's) and the duration, then propagate in a
  background thread; ``GET /api/run/<key>`` reports progress and, when
  done, the result files under ``/api/run/<key>/...``.
- ``POST /api/heatmap``: a correspondence heat map as PNG.

Bad input is answered with HTTP 400 and ``{"error": message}`` (plus
``kind`` ``"mask_size"`` or ``"too_long"`` where the page can offer a
fix); the server keeps running.
"""
import base64
import json
import logging
import os
import os.path as osp
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from flask import Flask, abort, jsonify, render_template, request, send_file
from torch import nn
from werkzeug.exceptions import HTTPException

from mmhvc.datasets import davis_palette
from .pipeline import (MaskSizeError, ResultFiles, TooLongError, cap_frames,
                       check_duration, check_first_mask,
                       correspondence_heatmap, decode_layer, demo_first_mask,
                       frame_budget, list_demo_videos, measure_speed,
                       painted_layers_to_mask, propagate_with_progress,
                       read_mask_upload, read_upload, write_results)

logger = logging.getLogger('mmhvc.web_demo')

#: Video sessions kept in memory; older ones are dropped with their files.
MAX_SESSIONS = 8
#: Largest request body (an uploaded video or zip).
MAX_UPLOAD_BYTES = 1 << 30
#: Object colours offered on the page (DAVIS palette ids 1..N).
NUM_PAINT_COLOURS = 20


@dataclass
class DemoSettings:
    """What the page says about the model and how the server runs.

    Attributes:
        config: The propagation config file.
        checkpoint: The checkpoint, or None for a random initialisation.
        device: Where the model runs.
        max_seconds: The longest estimated run accepted.
        temperature: Softmax temperature of the correspondence heat maps.
        fps: Frames per second of the overlay videos.
    """
    config: str
    checkpoint: Optional[str]
    device: str
    max_seconds: float
    temperature: float
    fps: float = 10.


@dataclass
class Run:
    """One propagation: progress while it runs, then its result files."""
    key: str
    folder: str
    total: int
    done: int = 0
    state: str = 'running'
    error: Optional[str] = None
    files: Optional[ResultFiles] = None
    started: float = field(default_factory=time.perf_counter)
    seconds: Optional[float] = None

    def report(self) -> dict:
        """The JSON the page polls."""
        out = dict(state=self.state, done=self.done, total=self.total,
                   error=self.error)
        if self.files is not None:
            prefix = f'/api/run/{self.key}'
            out.update(
                seconds=self.seconds,
                video=f'{prefix}/overlay.webm',
                mp4=f'{prefix}/overlay.mp4',
                masks=f'{prefix}/masks.zip',
                frame=f'{prefix}/frame/')
        return out


@dataclass
class VideoSession:
    """An uploaded or chosen video and the runs made on it."""
    key: str
    folder: str
    label: str
    frames: List[np.ndarray]
    names: List[str]
    frames_per_second: float
    demo_mask: Optional[str] = None
    runs: List[Run] = field(default_factory=list)


class DemoServer:
    """The state behind the app: the model, the sessions and their runs.

    Args:
        model: A model from :func:`mmhvc.apis.init_model`.
        settings: See :class:`DemoSettings`.
        work_dir: Folder for uploads and results.
        demo_root: A DAVIS-layout folder of demo sequences.
    """

    def __init__(self, model: nn.Module, settings: DemoSettings,
                 work_dir: str, demo_root: str) -> None:
        self.model = model
        self.settings = settings
        self.work_dir = work_dir
        self.demo_root = demo_root
        self.sessions: 'OrderedDict[str, VideoSession]' = OrderedDict()
        self.runs: Dict[str, Run] = {}
        self.model_lock = threading.Lock()
        self.state_lock = threading.Lock()

    def open_video(self) -> dict:
        """Start a video session from the request's upload or demo name."""
        key = uuid.uuid4().hex
        folder = osp.join(self.work_dir, 'sessions', key)
        demo_mask = None
        demo = request.form.get('demo')
        if demo:
            demos = list_demo_videos(self.demo_root)
            if demo not in demos:
                raise ValueError(f'no demo video named "{demo}"')
            label = demo
            frames, names = read_upload(demos[demo], folder, demo)
            demo_mask = demo_first_mask(self.demo_root, demo)
        else:
            upload = request.files.get('video')
            if upload is None or not upload.filename:
                raise ValueError('choose a video file (mp4) or a zip of '
                                 'frames first')
            label = osp.basename(upload.filename)
            path = _save_upload(upload, folder, 'upload')
            frames, names = read_upload(path, folder, label)
        with self.model_lock:
            speed = measure_speed(self.model, frames)
        session = VideoSession(key, folder, label, frames, names, speed,
                               demo_mask)
        self._keep(session)
        height, width = frames[0].shape[:2]
        seconds = len(frames) / speed
        budget = frame_budget(speed, self.settings.max_seconds)
        return dict(
            video=key,
            label=label,
            num_frames=len(frames),
            width=width,
            height=height,
            frames_per_second=speed,
            seconds=seconds,
            frame_budget=min(budget, len(frames)),
            too_long=seconds > self.settings.max_seconds,
            demo_mask=demo_mask is not None)

    def _keep(self, session: VideoSession) -> None:
        """Add a session; drop the oldest beyond ``MAX_SESSIONS``."""
        with self.state_lock:
            self.sessions[session.key] = session
            while len(self.sessions) > MAX_SESSIONS:
                _, old = self.sessions.popitem(last=False)
                if any(run.state == 'running' for run in old.runs):
                    self.sessions[old.key] = old
                    self.sessions.move_to_end(old.key, last=False)
                    break
                for run in old.runs:
                    self.runs.pop(run.key, None)
                shutil.rmtree(old.folder, ignore_errors=True)

    def session(self, key: str) -> VideoSession:
        """The video session ``key``; a ValueError once it is gone."""
        with self.state_lock:
            session = self.sessions.get(key)
        if session is None:
            raise ValueError('this video is no longer on the server: '
                             'upload or choose it again')
        return session

    def start_run(self) -> dict:
        """Check the request's mask and frame cap, then propagate in the
        background."""
        session = self.session(request.form.get('video', ''))
        if any(run.state == 'running' for run in session.runs):
            raise ValueError('a run on this video is still going')
        size = session.frames[0].shape[:2]
        mask, palette = self._first_mask(session, size)
        cap = request.form.get('max_frames', '').strip()
        try:
            max_frames = int(cap) if cap else None
        except ValueError as e:
            raise ValueError(f'the frame cap must be a whole number, got '
                             f'"{cap}"') from e
        frames, names = cap_frames(session.frames, session.names, max_frames)
        check_duration(
            len(frames), session.frames_per_second,
            self.settings.max_seconds, self.settings.device)
        key = uuid.uuid4().hex
        run = Run(key, osp.join(session.folder, f'run-{key}'), len(frames))
        with self.state_lock:
            session.runs.append(run)
            self.runs[key] = run
        threading.Thread(
            target=self._propagate,
            args=(run, frames, names, mask, palette),
            daemon=True).start()
        return dict(run=key, total=len(frames))

    def _first_mask(self, session: VideoSession, size: Tuple[int, int]
                    ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """The first-frame mask (``(H, W)`` uint8 ids) and the palette
        (``(256, 3)`` RGB or None) chosen in the request."""
        source = request.form.get('source', 'paint')
        resize = request.form.get('resize') == '1'
        if source == 'file':
            upload = request.files.get('mask')
            if upload is None or not upload.filename:
                raise ValueError('choose a mask PNG to upload first')
            path = _save_upload(upload, session.folder, 'mask')
            return read_mask_upload(path, size, resize,
                                    osp.basename(upload.filename))
        if source == 'demo':
            if session.demo_mask is None:
                raise ValueError(f'{session.label} comes with no mask')
            return read_mask_upload(session.demo_mask, size, resize,
                                    f'the mask of {session.label}')
        if source != 'paint':
            raise ValueError(f'unknown mask source "{source}"')
        urls = json.loads(request.form.get('layers') or '[]')
        layers = [decode_layer(_data_url_bytes(u)) for u in urls]
        mask = painted_layers_to_mask(layers, size)
        return check_first_mask(mask, size, 'the painted mask'), None

    def _propagate(self, run: Run, frames: List[np.ndarray],
                   names: List[str], mask: np.ndarray,
                   palette: Optional[np.ndarray]) -> None:
        """Body of a run's thread: propagate, then write the results."""
        try:
            with self.model_lock:
                run.started = time.perf_counter()
                masks = propagate_with_progress(
                    self.model, frames, mask,
                    lambda n: setattr(run, 'done', min(n, run.total)))
            run.seconds = time.perf_counter() - run.started
            run.files = write_results(run.folder, frames, names, masks,
                                      palette, self.settings.fps)
            run.done = run.total
            run.state = 'done'
        except Exception as e:
            logger.exception('run %s failed', run.key)
            run.error = f'propagation failed: {e}'
            run.state = 'failed'

    def run(self, key: str) -> Run:
        """The run ``key``; HTTP 404 when there is none."""
        with self.state_lock:
            run = self.runs.get(key)
        if run is None:
            abort(404)
        return run

    def heatmap(self) -> bytes:
        """PNG of the correspondence heat map the JSON request asks for."""
        query = request.get_json(force=True, silent=True) or {}
        session = self.session(str(query.get('video', '')))
        try:
            a, b = int(query['frame_a']), int(query['frame_b'])
            point = (float(query['x']), float(query['y']))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                'a heat map needs frame_a, frame_b, x and y') from e
        for t in (a, b):
            if not 0 <= t < len(session.frames):
                raise ValueError(f'frame {t} is outside the video '
                                 f'(0-{len(session.frames) - 1})')
        with self.model_lock:
            image = correspondence_heatmap(self.model, session.frames[a],
                                           session.frames[b], point,
                                           self.settings.temperature)
        return _png(image[..., ::-1])


def _save_upload(upload, folder: str, stem: str) -> str:
    """Save an uploaded file as ``<folder>/<stem><ext>``, ext from its
    name."""
    os.makedirs(folder, exist_ok=True)
    ext = osp.splitext(upload.filename)[1].lower()
    path = osp.join(folder, stem + ext)
    upload.save(path)
    return path


def _data_url_bytes(url: str) -> bytes:
    """The bytes of a base64 ``data:`` URL."""
    header, _, data = str(url).partition(',')
    if not header.startswith('data:') or not header.endswith(';base64'):
        raise ValueError('a painted layer must be a base64 data URL')
    try:
        return base64.b64decode(data, validate=True)
    except ValueError as e:
        raise ValueError(f'a painted layer is not valid base64: {e}') from e


def _png(image_bgr: np.ndarray) -> bytes:
    ok, data = cv2.imencode('.png', image_bgr)
    if not ok:
        raise RuntimeError('PNG encoding failed')
    return data.tobytes()


def create_app(server: DemoServer) -> Flask:
    """The Flask app of the page and its API."""
    here = osp.dirname(osp.abspath(__file__))
    app = Flask(
        'mmhvc_web_demo',
        template_folder=osp.join(here, 'templates'),
        static_folder=osp.join(here, 'static'))
    app.config['MAX_CONTENT_LENGTH'] = MAX_UPLOAD_BYTES
    settings = server.settings

    @app.errorhandler(Exception)
    def on_error(error: Exception):
        if isinstance(error, HTTPException):
            return jsonify(error=error.description), error.code
        if isinstance(error, (ValueError, FileNotFoundError, IndexError)):
            body = dict(error=str(error))
            if isinstance(error, MaskSizeError):
                body.update(kind='mask_size')
            elif isinstance(error, TooLongError):
                body.update(kind='too_long', frame_budget=error.frame_budget)
            return jsonify(body), 400
        logger.exception('request failed')
        return jsonify(error=f'internal error: {error}'), 500

    @app.get('/')
    def index():
        palette = davis_palette()[1:NUM_PAINT_COLOURS + 1]
        return render_template(
            'index.html',
            settings=settings,
            config_name=osp.basename(settings.config),
            checkpoint_name=settings.checkpoint
            and osp.basename(settings.checkpoint),
            demos=list(list_demo_videos(server.demo_root)),
            colours=['#%02x%02x%02x' % tuple(c) for c in palette])

    @app.post('/api/video')
    def video():
        return jsonify(server.open_video())

    @app.get('/api/video/<key>/frame/<int:t>')
    def frame(key: str, t: int):
        frames = server.session(key).frames
        if not 0 <= t < len(frames):
            abort(404)
        return app.response_class(_png(frames[t]), mimetype='image/png')

    @app.get('/api/video/<key>/demo-mask')
    def demo_mask(key: str):
        path = server.session(key).demo_mask
        if path is None:
            abort(404)
        return send_file(path, mimetype='image/png')

    @app.post('/api/run')
    def run():
        return jsonify(server.start_run())

    @app.get('/api/run/<key>')
    def progress(key: str):
        return jsonify(server.run(key).report())

    @app.get('/api/run/<key>/<name>')
    def result(key: str, name: str):
        files = _files(server.run(key))
        paths = {
            'overlay.webm': files.overlay_webm,
            'overlay.mp4': files.overlay_mp4,
            'masks.zip': files.masks_zip
        }
        if name not in paths:
            abort(404)
        return send_file(paths[name], as_attachment=name != 'overlay.webm')

    @app.get('/api/run/<key>/frame/<int:t>')
    def overlay_frame(key: str, t: int):
        frames = _files(server.run(key)).overlay_frames
        if not 0 <= t < len(frames):
            abort(404)
        return send_file(frames[t], mimetype='image/png')

    @app.post('/api/heatmap')
    def heatmap():
        return app.response_class(server.heatmap(), mimetype='image/png')

    return app


def _files(run: Run) -> ResultFiles:
    if run.files is None:
        abort(409, description='the run has not finished')
    return run.files
