"""A local web page to segment your own video with label propagation.

Upload a video (or a zip of frames, or pick a generated demo video), paint
the objects of any frame or upload its mask PNG, propagate forward,
backward or both ways, correct any frame and propagate again, and watch or
download the masks. The page drives :class:`mmhvc.apis.MaskPropagation`,
the runner of :func:`mmhvc.apis.propagate_masks`, so both give the same
masks for the same annotations and settings.

Example::

    python demo/web_demo.py configs/propagation/demo_davis_r18.py \
        work_dirs/demo/train/iter_240.pth --port 7860

then open http://127.0.0.1:7860. Without a checkpoint the model keeps its
random initialisation (the page says so). Needs Gradio
(``pip install -r requirements/optional.txt``). The server listens on
127.0.0.1 only and fetches nothing from the internet.
"""
import argparse
import os
import os.path as osp
import socket
import sys
import tempfile

import numpy as np
from mmengine.logging import MMLogger

# Before Gradio is imported: no usage statistics, no version check.
os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
os.environ.setdefault('HF_HUB_OFFLINE', '1')

from mmhvc.apis import init_model  # noqa: E402
from mmhvc.datasets.synthetic import write_demo_videos  # noqa: E402

try:
    import gradio as gr

    from web.app import DemoSettings, build_app
    from web.inputs import list_demo_videos, measure_speed
except ImportError as e:
    if e.name != 'gradio':
        raise
    sys.exit('error: the web demo needs Gradio: '
             'pip install -r requirements/optional.txt')

HOST = '127.0.0.1'
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Serve a page that propagates masks through your video')
    parser.add_argument('config', help='a propagation config')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='an mmhvc checkpoint (default: random initialisation)')
    parser.add_argument(
        '--port', type=int, default=7860,
        help='port on 127.0.0.1 (0: any free port)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument(
        '--max-seconds', type=float, default=300.,
        help='refuse runs estimated to take longer (seconds)')
    parser.add_argument(
        '--demo-root',
        default=osp.join(REPO_ROOT, 'data', 'demo_davis'),
        help='DAVIS-layout folder of demo videos; small ones are generated '
        'into the work dir when it has none')
    parser.add_argument(
        '--work-dir',
        help='folder for uploads and results (default: a temporary folder)')
    parser.add_argument('--fps', type=float, default=10., help='overlay fps')
    return parser.parse_args()


def free_port() -> int:
    """A port of 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def main() -> None:
    args = parse_args()
    MMLogger.get_instance('web_demo', log_level='WARNING')
    work_dir = osp.abspath(args.work_dir or
                           tempfile.mkdtemp(prefix='mmhvc_web_demo_'))
    os.makedirs(work_dir, exist_ok=True)
    demo_root = args.demo_root
    if not list_demo_videos(demo_root):
        demo_root = osp.join(work_dir, 'demo_davis')
        write_demo_videos(demo_root)
    model = init_model(args.config, args.checkpoint, device=args.device)
    # The first run on a device is slower (allocations, kernel choice).
    measure_speed(model, [np.zeros((64, 64, 3), np.uint8)] * 2)
    settings = DemoSettings(
        config=args.config,
        checkpoint=args.checkpoint,
        device=args.device,
        max_seconds=args.max_seconds,
        work_dir=work_dir,
        demo_root=demo_root,
        fps=args.fps)
    app = build_app(model, settings)
    port = args.port or free_port()
    app.queue().launch(
        server_name=HOST,
        server_port=port,
        allowed_paths=[work_dir, demo_root],
        theme=gr.themes.Default(
            font=['ui-sans-serif', 'system-ui', 'sans-serif'],
            font_mono=['ui-monospace', 'monospace']),
        footer_links=[],
        quiet=True,
        prevent_thread_lock=True)
    weights = args.checkpoint or 'random initialisation'
    print(f'web demo ({weights}, {args.device}) on http://{HOST}:{port}',
          flush=True)
    app.block_thread()


if __name__ == '__main__':
    main()
