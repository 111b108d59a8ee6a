"""The osteoblast lineage: mesenchymal progenitors that active TGF-β1 keeps dividing, pre-osteoblasts committed
by Osterix, and osteoblasts laying down matrix by their collagen secretion.

  contract.py  the species and counter it reads (by role) and the inputs it supplies to its network
  lineage.py   the lineage: plating, the tick's fates, matrix laid down, and what it reports
  fates.py     the per-cell rates and the kernel deciding death, division, hops and commitment
  stages.py    stage names as the tables report them

This module imports nothing, so the config can check a network against the contract without a cycle.
"""
