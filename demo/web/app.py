"""The web demo page, built with Gradio: its layout and events.

The work is done by :mod:`.inputs` (uploads, masks, duration) and
:class:`.session.VideoSession` (annotations, runs, results); this module
only connects them to Gradio's components. Bad input raises
``gradio.Error``, which the page shows while the server keeps running.
"""
import os.path as osp
import threading
import uuid
from dataclasses import dataclass
from typing import Iterator, Optional

import gradio as gr
from torch import nn

from mmhvc.apis import DIRECTIONS
from .inputs import (MaskSizeError, cap_frames, check_duration,
                     demo_first_mask, frame_budget, list_demo_videos,
                     measure_speed, read_mask_upload, read_upload)
from .session import VideoSession, brush_colours, editor_mask

#: Frames between two updates of the page while a run goes on.
UPDATE_EVERY = 2


@dataclass
class DemoSettings:
    """What the page says about the model and how the server runs.

    Attributes:
        config: The propagation config file.
        checkpoint: The checkpoint, or None for a random initialisation.
        device: Where the model runs.
        max_seconds: The longest estimated run accepted.
        work_dir: Folder for uploads and results.
        demo_root: A DAVIS-layout folder of demo videos.
        fps: Frames per second of the overlay videos.
    """
    config: str
    checkpoint: Optional[str]
    device: str
    max_seconds: float
    work_dir: str
    demo_root: str
    fps: float = 10.


def _error(e: Exception) -> gr.Error:
    return gr.Error(str(e), print_exception=False)


def _editor_value(session: VideoSession, t: int) -> dict:
    """Frame ``t`` with its mask drawn in, to paint corrections over."""
    return dict(background=session.overlay(t), layers=[], composite=None)


def _describe(session: VideoSession) -> str:
    height, width = session.size
    seconds = len(session.frames) / session.frames_per_second
    text = (f'**{session.label}**: {len(session.frames)} frames of '
            f'{width}x{height}; a run over all of them takes about '
            f'{seconds:.0f} s ({session.frames_per_second:.1f} frames/s).')
    return text + ' ' + _annotation_text(session)


def _annotation_text(session: VideoSession) -> str:
    if session.start is None:
        return 'Paint the objects of a frame (or upload its mask), then ' \
            'propagate.'
    others = sorted(t for t in session.annotations if t != session.start)
    return (f'Start frame {session.start}' +
            (f', corrected frames {others}.' if others else '.'))


def build_app(model: nn.Module, settings: DemoSettings) -> gr.Blocks:
    """The page: video, paint, settings, propagate, results."""
    propagator = model.propagator
    lock = threading.Lock()
    demos = list(list_demo_videos(settings.demo_root))
    weights = osp.basename(settings.checkpoint) if settings.checkpoint \
        else 'random initialisation (masks show the mechanics only)'
    colours = brush_colours()

    with gr.Blocks(title='mmhvc: propagate masks through your video') as app:
        session = gr.State(None)
        gr.Markdown(
            f'## Segment a video by label propagation\n'
            f'Model: `{osp.basename(settings.config)}`, weights: '
            f'`{weights}`, device `{settings.device}`.',
            elem_id='model-info')
        with gr.Row():
            video_file = gr.File(
                label='Video file or zip of frames',
                file_types=['video', '.zip'],
                elem_id='video-file')
            with gr.Column():
                demo_name = gr.Radio(
                    demos, label='or a demo video', value=None,
                    elem_id='demo-name')
                max_frames = gr.Number(
                    0, label='Use the first N frames (0: all that fit the '
                    'time limit)', precision=0, minimum=0,
                    elem_id='max-frames')
                load = gr.Button('Open the video', elem_id='open-video')
        info = gr.Markdown(elem_id='video-info')
        frame = gr.Slider(0, 1, step=1, value=0, label='Frame',
                          elem_id='frame-slider')
        with gr.Row():
            editor = gr.ImageEditor(
                label='Paint over the mask: black paints background, '
                'the k-th colour object k',
                type='numpy',
                image_mode='RGBA',
                sources=(),
                layers=gr.LayerOptions(allow_additional_layers=False),
                transforms=(),
                format='png',
                brush=gr.Brush(colors=colours, default_color=colours[1],
                               color_mode='fixed', default_size=6),
                eraser=gr.Eraser(default_size=6),
                elem_id='editor')
            result = gr.Image(
                label='Result (click a point for its heat map)',
                interactive=False, height=360, elem_id='result-frame')
        with gr.Row():
            mask_file = gr.File(
                label='or upload the mask PNG of this frame',
                file_types=['.png'], elem_id='mask-file')
            resize = gr.Checkbox(
                False, label='resize a mask of another size (nearest)',
                elem_id='resize-mask')
            clear = gr.Button('Clear all annotations', elem_id='clear')
        with gr.Accordion('Propagation settings', open=True):
            with gr.Row():
                direction = gr.Radio(
                    list(DIRECTIONS), value='forward', label='Direction',
                    info='from the start frame: to the end, to frame 0, '
                    'or both', elem_id='direction')
                context_size = gr.Number(
                    propagator.context_size, precision=0, minimum=1,
                    label='Context size',
                    info='recent frames each query compares with (config: '
                    f'{propagator.context_size})', elem_id='context-size')
                topk = gr.Number(
                    propagator.topk, precision=0, minimum=1, label='Top-k',
                    info='neighbours whose labels are averaged (config: '
                    f'{propagator.topk})', elem_id='topk')
            with gr.Row():
                radius = gr.Number(
                    propagator.radius, minimum=1, label='Radius',
                    info='search radius in feature cells (8 px) in recent '
                    f'frames (config: {propagator.radius:g})',
                    elem_id='radius')
                temperature = gr.Number(
                    propagator.temperature, minimum=1e-3,
                    label='Temperature',
                    info='softmax temperature of the affinities (config: '
                    f'{propagator.temperature:g})', elem_id='temperature')
                short_side = gr.Number(
                    480, precision=0, minimum=8,
                    label='Processing short side (px)',
                    info='frames are encoded at this short side, never '
                    'enlarged (the paper: 480, full DAVIS resolution)',
                    elem_id='short-side')
        with gr.Row():
            run = gr.Button('Propagate', variant='primary', elem_id='run')
            stop = gr.Button('Stop', variant='stop', elem_id='stop')
        status = gr.Markdown(elem_id='status')
        with gr.Row():
            video_out = gr.Video(label='Overlay video', interactive=False,
                                 elem_id='overlay-video')
            with gr.Column():
                masks_out = gr.File(label='Masks (zip of indexed PNGs)',
                                    interactive=False,
                                    elem_id='download-masks')
                mp4_out = gr.File(label='Overlay (mp4)', interactive=False,
                                  elem_id='download-mp4')
        with gr.Row():
            target = gr.Number(-1, precision=0, minimum=-1,
                               label='Heat map in frame (-1: the next)',
                               elem_id='heatmap-target')
            heatmap = gr.Image(label='Correspondence heat map',
                               interactive=False, elem_id='heatmap')

        def open_video(upload: Optional[str], name: Optional[str],
                       cap: Optional[float]):
            key = uuid.uuid4().hex
            folder = osp.join(settings.work_dir, 'sessions', key)
            try:
                if upload:
                    label = osp.basename(upload)
                    frames, names = read_upload(upload, folder, label)
                elif name:
                    if name not in list_demo_videos(settings.demo_root):
                        raise ValueError(f'no demo video named "{name}"')
                    label = name
                    frames, names = read_upload(
                        list_demo_videos(settings.demo_root)[name], folder,
                        name)
                else:
                    raise ValueError('choose a video file (mp4) or a zip '
                                     'of frames, or a demo video, first')
                with lock:
                    speed = measure_speed(model, frames)
                budget = frame_budget(speed, settings.max_seconds)
                limit = int(cap) if cap else min(budget, len(frames))
                frames, names = cap_frames(frames, names, limit)
            except ValueError as e:
                raise _error(e)
            video = VideoSession(model, frames, names, label, speed, folder)
            note = ''
            if limit < len(names) or (not cap and budget < len(names)):
                note = (f' Only the first {limit} frames are used (the '
                        f'time limit is {settings.max_seconds:.0f} s).')
            if name and not upload:
                path = demo_first_mask(settings.demo_root, name)
                if path is not None:
                    mask, _ = read_mask_upload(path, video.size, False)
                    video.annotate(0, mask)
                    note += ' Its mask of frame 0 is loaded.'
            return (video, _describe(video) + note,
                    gr.Slider(0, len(frames) - 1, value=0, step=1),
                    _editor_value(video, 0), video.overlay(0), None, None,
                    None, '')

        load.click(
            open_video, [video_file, demo_name, max_frames], [
                session, info, frame, editor, result, video_out,
                masks_out, mp4_out, status
            ])

        def show_frame(video: Optional[VideoSession], t: float):
            if video is None:
                return gr.skip(), gr.skip()
            t = int(t)
            return _editor_value(video, t), video.overlay(t)

        frame.change(show_frame, [session, frame], [editor, result])

        def upload_mask(video: Optional[VideoSession], t: float,
                        path: Optional[str], resize_mask: bool):
            if path is None:
                return gr.skip(), gr.skip(), gr.skip()
            if video is None:
                raise gr.Error('open a video first')
            t = int(t)
            try:
                mask, _ = read_mask_upload(path, video.size, resize_mask,
                                           osp.basename(path))
                video.annotate(t, mask)
            except MaskSizeError as e:
                raise gr.Error(f'{e}; tick "resize a mask of another size" '
                               'and upload it again', print_exception=False)
            except ValueError as e:
                raise _error(e)
            return (_editor_value(video, t), video.overlay(t),
                    _describe(video))

        mask_file.upload(upload_mask, [session, frame, mask_file, resize],
                         [editor, result, info])

        def clear_annotations(video: Optional[VideoSession], t: float):
            if video is None:
                return gr.skip(), gr.skip(), gr.skip()
            video.clear()
            return (_editor_value(video, int(t)), video.overlay(int(t)),
                    _describe(video))

        clear.click(clear_annotations, [session, frame],
                    [editor, result, info])

        def propagate(video: Optional[VideoSession], t: float,
                      painted: Optional[dict], how: str, context: float,
                      k: float, rad: float, temp: float,
                      side: float) -> Iterator[tuple]:
            if video is None:
                raise gr.Error('open a video first')
            t = int(t)
            try:
                video.annotate(t, editor_mask(painted, video.shown_mask(t)))
                settings_ = dict(context_size=int(context), topk=int(k),
                                 radius=float(rad),
                                 temperature=float(temp))
                check_duration(video.frames_to_run(how),
                               video.frames_per_second,
                               settings.max_seconds, settings.device)
                with lock:
                    steps = video.iter_run(how, settings_,
                                           int(side) if side else None)
                    done = 0
                    for done, latest in enumerate(steps, 1):
                        if done % UPDATE_EVERY == 0:
                            yield (video.overlay(latest),
                                   f'Propagating: frame {latest} '
                                   f'({done} so far)', gr.skip(),
                                   gr.skip(), gr.skip(), gr.skip(),
                                   gr.skip())
            except ValueError as e:
                raise _error(e)
            files = video.write_results(settings.fps)
            yield (video.overlay(t), f'Done: {done} frames propagated. '
                   + _annotation_text(video), files['webm'], files['masks'],
                   files['mp4'], _editor_value(video, t), _describe(video))

        running = run.click(
            propagate, [
                session, frame, editor, direction, context_size, topk,
                radius, temperature, short_side
            ], [result, status, video_out, masks_out, mp4_out, editor, info])
        stop.click(lambda: 'Stopped.', None, status, cancels=[running])

        def show_heatmap(video: Optional[VideoSession], t: float,
                         other: Optional[float], temp: float,
                         evt: gr.SelectData):
            if video is None:
                raise gr.Error('open a video first')
            t = int(t)
            b = int(other) if other is not None and other >= 0 else min(
                t + 1, len(video.frames) - 1)
            try:
                return video.heatmap(t, b, tuple(evt.index), float(temp))
            except ValueError as e:
                raise _error(e)

        result.select(show_heatmap, [session, frame, target, temperature],
                      heatmap)
    return app
