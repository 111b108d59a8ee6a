"""Every lineage's contract by lineage name, for checks that run before a model exists (the config's)."""

from boneabm.cells.osteoblast.contract import CONTRACT as OSTEOBLAST
from boneabm.cells.osteoclast.contract import CONTRACT as OSTEOCLAST

CONTRACTS = {contract.lineage: contract for contract in (OSTEOCLAST, OSTEOBLAST)}
