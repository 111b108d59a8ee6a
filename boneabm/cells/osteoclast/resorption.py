"""How much bone a resorbing osteoclast removes per hour, and over what footprint, from its resorption apparatus.

The cell's size sets how far it spreads; the sealing zone (the actin ring that integrin αvβ3 organises) encloses
part of that spread area, the resorption lacuna, and the ruffled border inside it is the only membrane where the
cell's proton pumps (V-ATPase, Atp6v0d2) work. Protons dissolve the mineral by stoichiometry; cathepsin K
secreted into the lacuna digests the collagen the acid has exposed. docs/model.md ("Resorption") walks through
which mechanism gives which behaviour; the parameters and their sources are in OsteoclastConfig.
"""

from __future__ import annotations

import numpy as np

from boneabm.cells.osteoclast.fates import hill
from boneabm.config import OsteoclastConfig

AVOGADRO_PER_MOL = 6.02214076e23
UM3_PER_CM3 = 1e12
# Ca10(PO4)6(OH)2 + 14 H⁺ → 10 Ca²⁺ + 6 H2PO4⁻ + 2 H2O: at the lacuna's pH (≈ 4.7 under resorbing osteoclasts,
# Silver et al. 1988; far below phosphate's pKa2 of 7.2) the phosphate leaves as H2PO4⁻, so each calcium
# released costs 1.4 protons. Bone mineral is a carbonated apatite, taken here as hydroxyapatite.
PROTONS_PER_CALCIUM = 14 / 10
# Adult human cortical bone: 1.92 g/cm³ and 22.5 % calcium by mass (Woodard & White 1986, ICRU 46), i.e. 432 mg
# calcium per cm³ of bone; bovine cortical bone and dentine slices, what the assays resorb, are within ≈ 20 %.
BONE_CALCIUM_MG_PER_CM3 = 1.92e3 * 0.225
CALCIUM_G_PER_MOL = 40.078
PROTONS_PER_UM3_BONE = (PROTONS_PER_CALCIUM * BONE_CALCIUM_MG_PER_CM3 * 1e-3 / CALCIUM_G_PER_MOL
                        * AVOGADRO_PER_MOL / UM3_PER_CM3)  # ≈ 9.1e9 H⁺ per µm³ of bone demineralised
SECONDS_PER_H = 3600.0


def spread_area_um2(nuclei, p: OsteoclastConfig):
    """Area the cell covers on the bone, µm²: its cytoplasm (hence volume) grows with the nuclei its fusion
    partners brought, and it spreads over volume to the power ``spread_area_nuclei_exponent``."""
    return p.spread_area_one_nucleus_um2 * np.power(nuclei, p.spread_area_nuclei_exponent)


def sealing_zone_area_um2(nuclei, itgb3, p: OsteoclastConfig):
    """Area the sealing zone encloses (the resorption lacuna and the ruffled border over it), µm²: a fixed
    share of the spread area, reached only as far as integrin β3 per nucleus lets the actin ring form."""
    return (p.sealing_zone_area_fraction * spread_area_um2(nuclei, p)
            * hill(itgb3 / nuclei, p.function_gene_half_molecules, 1.0))


def footprint_radius_um(sealing_zone_um2):
    """Radius of the disk of bone the cell resorbs: the lacuna is the area the sealing zone encloses."""
    return np.sqrt(sealing_zone_um2 / np.pi)


def protons_per_h(nuclei, trap, atp6v0d2, sealing_zone_um2, p: OsteoclastConfig):
    """H⁺ the ruffled border secretes into the lacuna per hour. The cell's pumps (∝ its Atp6v0d2, i.e. per
    nucleus × nuclei) work only in the ruffled border, so the flux per µm² saturates with the pumps per µm²
    of border: more pumps under the same sealing zone add less and less. TRAP adds to it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pumps_per_um2 = np.where(sealing_zone_um2 > 0, atp6v0d2 / sealing_zone_um2, 0.0)
    flux_per_um2_per_s = p.proton_flux_per_um2_per_s * hill(pumps_per_um2, p.pump_half_density_per_um2, 1.0)
    trap_effect = 0.5 + 0.5 * hill(trap / nuclei, p.function_gene_half_molecules, 1.0)
    return flux_per_um2_per_s * sealing_zone_um2 * SECONDS_PER_H * trap_effect


def mineral_um3(protons):
    """Bone demineralised by ``protons`` H⁺ (µm³), from the apatite's stoichiometry and bone's calcium."""
    return protons / PROTONS_PER_UM3_BONE


def resorption(nuclei, trap, ctsk, atp6v0d2, itgb3, p: OsteoclastConfig, bare_share=1.0):
    """A resorbing osteoclast's mineral rate (µm³/h), collagen rate (µm³/h: what its cathepsin K can digest;
    the bone also caps it at what has been demineralised) and footprint radius (µm). ``bare_share`` is the part
    of the footprint on bare mineralised bone: the actin ring seals only there (a lining cell or osteoid beneath
    leaves no bone to seal on), so the lacuna, and the ruffled border whose pumps acidify it, shrink with it."""
    sealing_zone = sealing_zone_area_um2(nuclei, itgb3, p)
    lacuna = sealing_zone * bare_share
    mineral = mineral_um3(protons_per_h(nuclei, trap, atp6v0d2, lacuna, p))
    collagen = p.collagen_um3_per_h_per_cathepsin_k * np.maximum(ctsk, 0.0)
    return mineral, collagen, footprint_radius_um(sealing_zone)
