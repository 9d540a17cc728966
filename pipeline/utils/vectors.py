"""Vector helpers shared by the embedding and ranking stages."""

from __future__ import annotations

import numpy as np

__all__ = ["l2_normalise"]


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as float32. Shape kept: (n, d)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, np.float32(1e-12))
