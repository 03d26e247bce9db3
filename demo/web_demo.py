"""A local web page to segment your own video with label propagation.

Upload a video (or a zip of frames, or pick a generated demo video), paint
the objects of the first frame or upload a mask PNG, run, and watch or
download the propagated masks. The page calls the same API as
``demo/video_demo.py`` (:mod:`mmhvc.apis`), so both give the same masks.

Example::

    python demo/web_demo.py configs/propagation/demo_davis_r18.py \
        work_dirs/demo/train/iter_240.pth --port 7860

then open http://127.0.0.1:7860. Without a checkpoint the model keeps its
random initialisation (the page says so). Needs Flask
(``pip install -r requirements/optional.txt``). The server listens on
127.0.0.1 only.
"""
import argparse
import logging
import os.path as osp
import sys
import tempfile

import numpy as np
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmhvc.apis import init_model

try:
    from werkzeug.serving import make_server

    from web.pipeline import (REPO_ROOT, generate_demo_videos,
                              list_demo_videos, measure_speed)
    from web.server import DemoServer, DemoSettings, create_app
except ImportError as e:
    if e.name not in ('flask', 'werkzeug'):
        raise
    sys.exit('error: the web demo needs Flask: '
             'pip install -r requirements/optional.txt')

HOST = '127.0.0.1'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Serve a page that propagates a first-frame mask '
        'through your video')
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


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    # Neither each polled request nor each initialised parameter is news.
    logging.getLogger('werkzeug').setLevel(logging.WARNING)
    MMLogger.get_instance('web_demo', log_level='WARNING')
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='mmhvc_web_demo_')
    demo_root = args.demo_root
    if not list_demo_videos(demo_root):
        demo_root = osp.join(work_dir, 'demo_davis')
        generate_demo_videos(demo_root)
    config = Config.fromfile(args.config)
    model = init_model(config, args.checkpoint, device=args.device)
    # The first run on a device is slower (allocations, kernel choice).
    measure_speed(model, [np.zeros((64, 64, 3), np.uint8)] * 2)
    settings = DemoSettings(
        config=args.config,
        checkpoint=args.checkpoint,
        device=args.device,
        max_seconds=args.max_seconds,
        temperature=config.model.get('propagator', {}).get(
            'temperature', 0.1),
        fps=args.fps)
    app = create_app(DemoServer(model, settings, work_dir, demo_root))
    server = make_server(HOST, args.port, app, threaded=True)
    weights = args.checkpoint or 'random initialisation'
    print(f'web demo ({weights}, {args.device}) on '
          f'http://{HOST}:{server.server_port}', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
