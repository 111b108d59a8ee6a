"""What the osteoclast lineage reads from its network, and supplies to it."""

from boneabm.cells.contract import Contract, SuppliedInput

CONTRACT = Contract(
    lineage="osteoclast",
    roles={
        "mitogenic_signal": "count per nucleus of activated growth-factor receptor (M-CSF-bound CSF-1R) that drives "
                            "a precursor's proliferation and survival",
        "commitment_marker": "count per nucleus that marks a committed TRAP⁺ pre-osteoclast",
        "arrest_signal": "count per nucleus that withdraws a precursor from the cell cycle (c-Fos)",
        "fusion_gene_1": "first master fusogen (DC-STAMP); fusion needs both",
        "fusion_gene_2": "second master fusogen (OC-STAMP)",
        "acid_phosphatase": "adds to resorption (TRAP)",
        "proton_pump": "acidifies the resorption lacuna (v-ATPase d2)",
        "sealing_integrin": "forms the sealing zone (integrin β3)",
        "collagenase": "degrades demineralised collagen (cathepsin K)",
        "apoptosis_signal": "count per nucleus of the pro-apoptotic protein (Bim) that sets a committed cell's "
                            "apoptosis",
    },
    inputs={
        "rankl_nM": SuppliedInput("nM", "free soluble RANKL at the cell's site", field="rankl"),
        "mcsf_nM": SuppliedInput("nM", "M-CSF at the cell's site", field="mcsf"),
        "itam_ligand": SuppliedInput("1", "ITAM co-stimulation, signaling.itam_ligand"),
    },
)
