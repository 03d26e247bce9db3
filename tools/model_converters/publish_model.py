"""Prepare an mmhvc training checkpoint for release.

Removes the training state (optimizer, message hub, parameter schedulers)
and the EMA target branch (``target_net.*``), keeps ``meta`` and the online
model (or, with ``--backbone-only``, only the encoder with its ``backbone.``
prefix removed), and names the file ``<name>-<sha8>.pth`` after the first 8
hexadecimal digits of its sha256.

Example::

    python tools/model_converters/publish_model.py \
        work_dirs/hvc_r18_coco/epoch_20.pth hvc_r18_coco.pth
    # -> hvc_r18_coco-1a2b3c4d.pth
"""
import argparse
from typing import List, Optional

from mmhvc.checkpoint import (CheckpointConversionError, load_checkpoint_file,
                              save_checkpoint_atomic, strip_training_state)
from mmhvc.models.backbones import check_backbone_state_dict


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Publish an mmhvc checkpoint (strip training state, '
        'add the sha256 prefix to the name)')
    parser.add_argument('in_file', help='mmhvc (MMEngine Runner) checkpoint')
    parser.add_argument(
        'out_file', help='output name; "-<sha8>" is inserted before .pth')
    parser.add_argument(
        '--backbone-only',
        action='store_true',
        help='keep only the encoder, keys without "backbone."')
    parser.add_argument(
        '--trust-pickle',
        action='store_true',
        help='unpickle arbitrary objects (only for trusted files)')
    parser.add_argument(
        '--verbose', action='store_true', help='list every key')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        checkpoint = load_checkpoint_file(args.in_file, args.trust_pickle)
        published, report, removed = strip_training_state(
            checkpoint, args.backbone_only, args.in_file)
        if args.backbone_only:
            check_backbone_state_dict(published['state_dict'], args.in_file)
    except (CheckpointConversionError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    print(f'removed entries: {removed or "none"}')
    print(report.format(args.verbose))
    final_path = save_checkpoint_atomic(
        published, args.out_file, hash_suffix=True)
    print(f'published {final_path}')


if __name__ == '__main__':
    main()
