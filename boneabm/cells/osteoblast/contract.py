"""What the osteoblast lineage reads from its network, and supplies to it."""

from boneabm.cells.contract import Contract, SuppliedInput

CONTRACT = Contract(
    lineage="osteoblast",
    roles={
        "proliferation_signal": "count per nucleus of the signal that keeps a progenitor dividing (nuclear "
                                "phospho-SMAD2/3, from active TGF-β1)",
        "commitment_marker": "count per nucleus that commits a progenitor to the osteoblast (Osterix)",
        "survival_signal": "count per nucleus of anti-apoptotic proteins (Bcl-2 family)",
    },
    counters={"collagen_secretion": "firings that each secrete a packet of procollagen into the matrix"},
    inputs={
        "tgfb_nM": SuppliedInput("nM", "active TGF-β1 at the cell's site", field="tgfb"),
        "igf1_nM": SuppliedInput("nM", "free IGF-1 at the cell's site", field="igf1"),
        "wnt_nM": SuppliedInput("nM", "canonical Wnt at the cell's site (osteocytes and osteoclasts make it)",
                                field="wnt"),
        "sclerostin_nM": SuppliedInput("nM", "sclerostin at the cell's site (osteocytes make it)", field="sclerostin"),
        "pth_nM": SuppliedInput("nM", "PTH, osteoblasts.signaling.pth_nM"),
        "rankl_nM": SuppliedInput("nM", "soluble RANKL at the cell's site, where what it sheds goes", field="rankl"),
        "opg_nM": SuppliedInput("nM", "OPG at the cell's site, where what it secretes goes", field="opg"),
        "sema4d_nM": SuppliedInput("nM", "soluble Sema4D at the cell's site (osteoclasts shed it)", field="sema4d"),
        "ephrinb2_contact": SuppliedInput("1", "share of the cell's 8 neighbouring sites holding an osteoclast-"
                                          "lineage cell that presents ephrinB2", contact="ephrinb2"),
    },
)
