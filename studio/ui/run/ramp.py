"""The colour ramp of every activation picture (heat maps, feature maps, bars,
attention maps): one place, so they all read the same."""
from __future__ import annotations

import numpy as np

# A short perceptual ramp (dark blue → teal → yellow) for heat maps and bars.
GAP = (226, 228, 232)  # the gaps between feature maps: light grey, like the panel around them
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32)


def colourize(values: np.ndarray) -> np.ndarray:
    """0..1 float H×W → uint8 H×W×3 through the ramp; NaN (the gaps between
    feature maps) in a neutral grey, apart from every value's colour."""
    gaps = np.isnan(values)
    v = np.clip(np.where(gaps, 0, values), 0, 1) * (len(_RAMP) - 1)
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, len(_RAMP) - 1)
    t = (v - lo)[..., None]
    rgb = (_RAMP[lo] * (1 - t) + _RAMP[hi] * t).astype(np.uint8)
    rgb[gaps] = GAP
    return rgb
