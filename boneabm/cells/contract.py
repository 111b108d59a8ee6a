"""What a lineage needs from the network its cells run, and the check that a network provides it.

A lineage reads some species by **role** (``commitment_marker``: the molecule whose count marks a committed
cell) and supplies the network's **inputs** (``rankl_nM``: free RANKL at the cell's site). A network file binds
roles to its own names in ``roles:``, so a user's network need not use ours; an input the lineage supplies binds
to the network input of the same name unless ``roles:`` names another. Checked before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from boneabm.errors import UserError


@dataclass(frozen=True)
class SuppliedInput:
    unit: str  # "nM" or "1", as a network input declares it
    meaning: str
    field: str | None = None  # the field whose site value it is, or None for a value from the config
    contact: str | None = None  # or the contact map (BoneModel.contacts) whose site value it is


@dataclass(frozen=True)
class Contract:
    lineage: str
    roles: dict[str, str]  # role -> what the lineage reads it for
    inputs: dict[str, SuppliedInput]  # input role -> where the value comes from
    counters: dict[str, str] = field(default_factory=dict)  # counter role -> what the lineage reads its firings for


class Binding(NamedTuple):
    """A network bound to a lineage: the species column of each role, for each network input (in the network's
    order) the input role that supplies it, and the column of each counter role among the network's counters."""

    species: dict[str, int]
    inputs: list[str]
    counters: dict[str, int] = {}

    def columns(self, *roles: str) -> np.ndarray:
        return np.array([self.species[role] for role in roles], dtype=np.int64)


class ContractError(UserError):
    """A network that does not give a lineage what it reads or needs an input the lineage does not supply."""


def bind(network, contract: Contract) -> Binding:
    """Bind ``network`` to ``contract``; every problem at once as a ``ContractError`` naming the role or input,
    the network file and the lineage."""
    roles = network.roles
    where = f"network {network.source} for lineage {contract.lineage}"
    problems = []

    def columns(wanted: dict[str, str], names: list[str], kind: str, what: str) -> dict[str, int]:
        """The column among ``names`` of each role in ``wanted``; a problem for each unbound or unknown one."""
        found = {}
        for role, meaning in wanted.items():
            name = roles.get(role)
            if name is None:
                problems.append(f"{what} {role!r} ({meaning}) is not bound; add `roles: {{{role}: <{kind}>}}`")
            elif name not in names:
                problems.append(f"{what} {role!r} is bound to {name!r}, which is not a {kind} of the network")
            else:
                found[role] = names.index(name)
        return found

    species = columns(contract.roles, list(network.species), "species", "role")
    counters = columns(contract.counters, list(network.counters), "counter", "counter role")
    input_role = {roles.get(role, role): role for role in contract.inputs}
    inputs = []
    for name in network.inputs:
        role = input_role.get(name)
        if role is None:
            supplied = ", ".join(f"{r} ({s.meaning}, {s.unit})" for r, s in contract.inputs.items())
            problems.append(f"input {name!r} is not supplied by the lineage; it supplies {supplied} (bind one "
                            f"with `roles: {{<supplied input>: {name}}}`)")
            continue
        unit = network.spec.inputs[name].unit
        if unit != contract.inputs[role].unit:
            problems.append(f"input {name!r} is in {unit!r} but the lineage supplies {role} in "
                            f"{contract.inputs[role].unit!r}")
        inputs.append(role)
    if problems:
        raise ContractError(f"{where}:\n  " + "\n  ".join(problems))
    return Binding(species, inputs, counters)
