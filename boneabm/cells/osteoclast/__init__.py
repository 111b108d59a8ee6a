"""The osteoclast lineage: bone-marrow macrophages (precursors), committed TRAP⁺ pre-osteoclasts and
multinucleated osteoclasts that resorb bone.

  contract.py    the species it reads (by role) and the inputs it supplies to its network
  lineage.py     the lineage: plating, the tick's fates, fusion, resorption, its records and reported columns
  fates.py       the per-cell rates and the kernel deciding death, division, hops, modes and fusion drive
  fusion.py      which fusion-competent neighbours fuse, and which partner survives
  resorption.py  how much bone an osteoclast removes, and over what footprint
  stages.py      stage and mode names as the tables report them

This module imports nothing, so the config can check a network against the contract without a cycle.
"""
