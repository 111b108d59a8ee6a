"""What the bone matrix stores and resorption sets free: latent TGF-β1 and IGF-1, the growth factors that couple
formation to resorption (Tang et al. 2009 Nat Med 15:757; Xian et al. 2012 Nat Med 18:1095;
docs/references.md#coupling).

Both are bound to the organic matrix (TGF-β1 as a latent complex with LAP and LTBP, IGF-1 with IGFBP-5), so they
leave the bone when an osteoclast degrades its collagen, not when it only dissolves the mineral: a cathepsin
K-deficient osteoclast demineralises but frees little. Of what is freed, the acid and the proteases of the
sealed lacuna activate a fraction (``*_active_fraction``); the rest stays latent, is carried off in the marrow
and is not followed. The active factor enters the fluid at the osteoclast's site, where the fields carry it.
"""

from __future__ import annotations

from boneabm.config import MatrixConfig
from boneabm.units import AVOGADRO_PER_MOL, IGF1_DA, TGFB1_DIMER_DA

UM3_PER_CM3 = 1e12
G_PER_NG = 1e-9

# field -> (content in the config, molecular weight, active fraction in the config)
FACTORS = {"tgfb": ("tgfb_ng_per_g", TGFB1_DIMER_DA, "tgfb_active_fraction"),
           "igf1": ("igf1_ng_per_g", IGF1_DA, "igf1_active_fraction")}


def active_molecules_per_um3(config: MatrixConfig) -> dict[str, float]:
    """Active molecules of each factor that one µm³ of degraded matrix puts into the fluid, by field:
    content (ng per g of bone) × density (g/cm³) → ng/µm³ → mol → molecules, times the active fraction."""
    per_um3 = {}
    for field, (content, weight_da, active) in FACTORS.items():
        ng_per_um3 = getattr(config, content) * config.density_g_per_cm3 / UM3_PER_CM3
        per_um3[field] = ng_per_um3 * G_PER_NG / weight_da * AVOGADRO_PER_MOL * getattr(config, active)
    return per_um3
