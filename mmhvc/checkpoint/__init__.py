from .encoder_layouts import (ENCODER_LAYOUTS, convert_encoder,
                              detect_encoder_layout, encoder_state_dict,
                              is_vit_key)
from .io import (CheckpointConversionError, checkpoint_safe_globals,
                 find_state_dict, history_buffer_getattr, load_checkpoint_file,
                 register_checkpoint_safe_globals, save_checkpoint_atomic)
from .layouts import (BACKBONE_PREFIX, OFFICIAL_ENCODER_PREFIXES,
                      TARGET_PREFIX, KeyReport, convert_official,
                      extract_backbone, is_optional_key, is_resnet_key,
                      revise_propagation_state_dict, select_encoder_prefix,
                      strip_training_state)
from .weight_loading import (load_encoder_weights, load_model_weights,
                             load_state_dict_checked)

__all__ = [
    'BACKBONE_PREFIX', 'CheckpointConversionError', 'ENCODER_LAYOUTS',
    'KeyReport', 'OFFICIAL_ENCODER_PREFIXES', 'TARGET_PREFIX',
    'checkpoint_safe_globals', 'convert_encoder', 'convert_official',
    'detect_encoder_layout', 'encoder_state_dict', 'extract_backbone',
    'find_state_dict', 'history_buffer_getattr', 'is_optional_key',
    'is_resnet_key', 'is_vit_key', 'load_checkpoint_file',
    'load_encoder_weights', 'load_model_weights', 'load_state_dict_checked',
    'register_checkpoint_safe_globals', 'revise_propagation_state_dict',
    'save_checkpoint_atomic', 'select_encoder_prefix', 'strip_training_state'
]
