"""Unit conventions and conversions.

Model time is in hours, lengths in µm, soluble factors in ng/mL at the user's side. Molar conversions use the
molecular weights below (docs/references.md#molar-conversions, approximate): 1 nM = MW[kDa] ng/mL.
"""

AVOGADRO_PER_MOL = 6.02214076e23
# The most molecules of one species a cell may hold, start with or be clamped at: beyond it the kernel's
# propensities overflow (networks and experiments share the limit).
MAX_MOLECULES = 10**9

MCSF_HOMODIMER_DA = 37_000.0  # M-CSF (CSF-1) homodimer: 30 ng/mL ≈ 0.8 nM
RANKL_MONOMER_DA = 20_000.0  # soluble RANKL ectodomain per monomer: 100 ng/mL ≈ 5 nM monomer
OPG_DIMER_DA = 110_000.0  # dimeric glycosylated OPG: 100 ng/mL ≈ 0.9 nM
TGFB1_DIMER_DA = 25_000.0  # mature TGF-β1, a disulfide-linked dimer of two 12.5 kDa chains
IGF1_DA = 7_650.0  # IGF-1, 70 amino acids
SCLEROSTIN_DA = 22_500.0  # sclerostin (SOST), glycosylated monomer
WNT_DA = 40_000.0  # a canonical Wnt ligand (Wnt3a: 39.7 kDa)


def ng_ml_to_nM(concentration_ng_ml: float, molecular_weight_da: float) -> float:
    """ng/mL → nM: 1 ng/mL = 1e-6 g/L, divided by g/mol, times 1e9 nM/M."""
    return concentration_ng_ml * 1e3 / molecular_weight_da


def nM_to_ng_ml(concentration_nM, molecular_weight_da: float):
    return concentration_nM * molecular_weight_da / 1e3
