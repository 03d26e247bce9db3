"""Extract the encoder of an mmhvc training checkpoint.

Keeps the online encoder (``backbone.*``) of an MMEngine Runner checkpoint
of ``HVC`` and writes it as a plain state dict without the ``backbone.``
prefix (torchvision ResNet names); the EMA target, projector, head and the
training state are dropped. Load the result with
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` (no ``prefix``) in an
mmseg config or in the label propagation model.

Example::

    python tools/model_converters/mmhvc_to_backbone.py \
        work_dirs/hvc_r18_coco/epoch_20.pth checkpoints/hvc_r18_backbone.pth
"""
import argparse
from typing import List, Optional

from mmhvc.checkpoint import (BACKBONE_PREFIX, CheckpointConversionError,
                              extract_backbone, find_state_dict,
                              load_checkpoint_file, save_checkpoint_atomic)
from mmhvc.models.backbones import check_backbone_state_dict


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract the backbone of an mmhvc training checkpoint')
    parser.add_argument('src', help='mmhvc (MMEngine Runner) checkpoint')
    parser.add_argument('dst', help='output backbone file')
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
        checkpoint = load_checkpoint_file(args.src, args.trust_pickle)
        state_dict, _ = find_state_dict(checkpoint, args.src)
        backbone, report = extract_backbone(state_dict, BACKBONE_PREFIX,
                                            args.src)
        depth, num_stages = check_backbone_state_dict(backbone, args.src)
    except (CheckpointConversionError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    print(report.format(args.verbose))
    save_checkpoint_atomic(backbone, args.dst)
    print(f'ResNet-{depth} encoder ({num_stages} stages) written to '
          f'{args.dst}')


if __name__ == '__main__':
    main()
