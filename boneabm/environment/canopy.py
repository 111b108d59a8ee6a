"""Where lining cells lift into a canopy over the surface, closing a bone remodeling compartment off from the
marrow (Hauge et al. 2001 JBMR 16:1575: the canopy covers all eroded surface and most osteoid; Andersen et al.
2009 Am J Pathol 174:239).

A rule that stands for the lining cells until they are agents: the canopy covers every site whose surface is
being remodeled — where osteocytes are signalling for resorption (apoptotic ones within reach), where bone has
been eroded and formation has not yet begun (eroded surface: resorption or reversal), and where osteoid lies
(formation) — widened by ``margin_um``. A site whose osteoblasts have stopped leaves it once its last osteoid
has mineralised, refilled or not: an incompletely refilled cavity ends as quiescent surface, as in bone. The rule
is derived from the state each tick, so it holds no state of its own.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage



def remodeling_surface(bone, osteocytes) -> np.ndarray:
    """Sites whose surface is being remodeled: apoptotic osteocytes within reach, a cavity formation has not
    reached, osteoid."""
    active = bone.cavity_sites()
    if bone.new_bone is not None:
        active |= bone.site_mean(bone.new_bone.osteoid_um) > 0
    if osteocytes is not None:
        active |= osteocytes.apoptotic > 0
    return active


def canopy_map(bone, osteocytes, margin_um: float, spacing_um: float) -> np.ndarray:
    """Sites under the canopy: remodeling surface (per site) dilated by ``margin_um``."""
    active = remodeling_surface(bone, osteocytes)
    steps = int(round(margin_um / spacing_um))
    if steps and active.any():
        active = ndimage.binary_dilation(active, structure=np.ones((3, 3), bool), iterations=steps)
    return active
