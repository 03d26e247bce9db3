"""Label maps drawn over frames: object colours blended in, contours on
top."""
import cv2
import numpy as np

from mmhvc.fileio import check_rgb


def overlay_masks(frame: np.ndarray,
                  mask: np.ndarray,
                  palette: np.ndarray,
                  alpha: float = 0.5) -> np.ndarray:
    """Blend a label map over a frame and outline each object.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB image.
        mask: ``(H, W)`` integer label map; 0 (background) and 255 (void)
            leave the frame as it is.
        palette: ``(256, 3)`` uint8 RGB colours indexed by label.
        alpha: Opacity of the label colours, in [0, 1].

    Returns:
        ``(H, W, 3)`` uint8 RGB image: object pixels are
        ``(1 - alpha) * frame + alpha * palette[label]`` (truncated), with
        a one-pixel contour of the label's colour around each object.

    Raises:
        ValueError: ``frame`` is no RGB image, ``mask`` is not of the
            frame's size, or ``palette`` is not ``(256, 3)``.
    """
    check_rgb(frame, 'frame')
    mask = np.asarray(mask)
    palette = np.asarray(palette)
    if mask.shape != frame.shape[:2]:
        raise ValueError(f'mask must be {frame.shape[:2]} (the frame\'s '
                         f'size), got {mask.shape}')
    if palette.shape != (256, 3):
        raise ValueError(f'palette must be (256, 3), got {palette.shape}')
    out = frame.copy()
    foreground = (mask > 0) & (mask < 255)
    blended = (1 - alpha) * frame + alpha * palette[mask]
    out[foreground] = blended[foreground].astype(np.uint8)
    for label in np.unique(mask[foreground]):
        contours, _ = cv2.findContours((mask == label).astype(np.uint8),
                                       cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1,
                         tuple(int(c) for c in palette[label]), 1)
    return out
