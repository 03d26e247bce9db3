"""Convert a public self-supervised checkpoint to an mmhvc encoder file.

``--layout`` names the method the checkpoint comes from (one of
``mmhvc.checkpoint.ENCODER_LAYOUTS``; the rules are documented in
``mmhvc/checkpoint/encoder_layouts.py``). The encoder is written as a plain
state dict: a ResNet with torchvision names, checked to load into
``HVCResNet``, or a Vision Transformer with DINO / DINOv2 names. Every key
that is neither the encoder nor a known non-encoder part of the method is an
error.

Example::

    python tools/model_converters/encoder_to_mmhvc.py \
        pretrained.pth checkpoints/crw_r18.pth --layout crw
"""
import argparse
from typing import List, Optional

from mmhvc.checkpoint import (ENCODER_LAYOUTS, CheckpointConversionError,
                              convert_encoder, is_vit_key,
                              load_checkpoint_file, save_checkpoint_atomic)
from mmhvc.models.backbones import check_backbone_state_dict


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a public self-supervised checkpoint to an '
        'mmhvc encoder file')
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='output encoder file')
    parser.add_argument('--layout',
                        required=True,
                        choices=ENCODER_LAYOUTS,
                        help='method the checkpoint comes from')
    parser.add_argument(
        '--trust-pickle',
        action='store_true',
        help='unpickle arbitrary objects (only for trusted files)')
    parser.add_argument('--verbose',
                        action='store_true',
                        help='list every key')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        checkpoint = load_checkpoint_file(args.src, args.trust_pickle)
        encoder, report = convert_encoder(checkpoint, args.layout, args.src)
        if all(is_vit_key(key) for key in encoder):
            num_blocks = len({
                key.split('.')[1]
                for key in encoder if key.startswith('blocks.')
            })
            summary = f'ViT encoder ({num_blocks} blocks)'
        else:
            depth, num_stages = check_backbone_state_dict(encoder, args.src)
            summary = f'ResNet-{depth} encoder ({num_stages} stages)'
    except (CheckpointConversionError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    print(report.format(args.verbose))
    save_checkpoint_atomic(encoder, args.dst)
    print(f'{summary} written to {args.dst}')


if __name__ == '__main__':
    main()
