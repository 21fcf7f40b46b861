"""wedgecore: Wedge Dropout as pure array-API kernels, for every array backend.

Wedge Dropout picks random pairs of channels of a CNN's last feature maps,
scores how similar the two maps of each pair are, and zeroes both channels of
a pair that is too similar. The kernels here take the random permutation as an
argument and run unchanged on NumPy, CuPy, JAX and PyTorch arrays; the
framework layers live in `wedgecore.adapters`.
"""

from ._mask import drop_fraction, pair_scores, wedge_dropout, wedge_mask
from ._methods import DEFAULT_THRESHOLDS, METHODS
from ._similarity import similarity, similarity_matrix

__all__ = [
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "drop_fraction",
    "pair_scores",
    "similarity",
    "similarity_matrix",
    "wedge_dropout",
    "wedge_mask",
]

__version__ = "0.1.0"
