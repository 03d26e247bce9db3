"""Convert an official HVC checkpoint to an mmhvc backbone file.

Accepts the official training checkpoints (``{'model': {...online_encoder.*,
target_encoder.*, ...}, 'optimizer', 'epoch', 'args'}``), the released encoder
files (plain torchvision ResNet keys) and the same weights wrapped in
``state_dict`` or prefixed with ``module.`` or ``encoder.``. Writes the online
encoder as a plain state dict with torchvision ResNet names, checked to load
into ``HVCResNet``; in an mmseg config load it with
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` (no ``prefix``).

Example::

    python tools/model_converters/hvc_official_to_mmhvc.py \
        pretrain_ckpt/hvc.pth checkpoints/hvc_r18_official.pth
"""
import argparse
from typing import List, Optional

from mmhvc.checkpoint import (OFFICIAL_ENCODER_PREFIXES,
                              CheckpointConversionError, convert_official,
                              find_state_dict, load_checkpoint_file,
                              save_checkpoint_atomic)
from mmhvc.models.backbones import check_backbone_state_dict


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an official HVC checkpoint to an mmhvc '
        'backbone file')
    parser.add_argument('src', help='official HVC checkpoint')
    parser.add_argument('dst', help='output backbone file')
    parser.add_argument(
        '--prefix',
        help='prefix of the encoder keys (default: the first of '
        f'{list(OFFICIAL_ENCODER_PREFIXES)} that matches)')
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
        backbone, report = convert_official(state_dict, args.prefix, args.src)
        depth, num_stages = check_backbone_state_dict(backbone, args.src)
    except (CheckpointConversionError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    print(report.format(args.verbose))
    save_checkpoint_atomic(backbone, args.dst)
    print(f'ResNet-{depth} encoder ({num_stages} stages) written to '
          f'{args.dst}')


if __name__ == '__main__':
    main()
