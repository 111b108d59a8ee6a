"""A network as tables a biologist can read: species, parameters and reactions (``boneabm network``)."""

from __future__ import annotations

import pandas as pd

from boneabm.signaling.network import Network


def species_table(network: Network) -> pd.DataFrame:
    rows = []
    for name, spec in network.spec.species.items():
        initial = spec.initial if isinstance(spec.initial, (int, float)) else (
            f"{spec.initial.distribution}(mean {spec.initial.mean:g}"
            + (f", cv {spec.initial.cv:g})" if spec.initial.distribution == "gamma" else ")"))
        rows.append({"species": name, "module": spec.module,
                     "molecules_per_nM": network.spec.modules[spec.module].molecules_per_nM,
                     "initial": initial, "description": spec.description})
    return pd.DataFrame(rows)


def parameter_table(network: Network) -> pd.DataFrame:
    return pd.DataFrame([{"parameter": name, "value": p.value, "unit": p.unit, "source": p.source}
                         for name, p in network.spec.parameters.items()])


def _side(stoichiometry: dict[str, int]) -> str:
    return " + ".join(f"{n} {s}" if n > 1 else s for s, n in stoichiometry.items()) or "∅"


def reaction_table(network: Network) -> pd.DataFrame:
    rows = []
    for r in network.spec.reactions:
        factors = [r.k] + [f"{s}^{n}" if n > 1 else s for s, n in r.reactants.items()]
        for m in r.modifiers:
            target = m.species or f"[{m.input}]"
            factors.append(target if m.law == "linear" else f"{'hill' if m.law == 'hill' else 'rep'}"
                                                            f"({target}; {m.K}, {m.n})")
        exchange = f"takes {r.consumes}" if r.consumes else (f"gives {r.releases}" if r.releases else "")
        rows.append({"reaction": r.name, "equation": f"{_side(r.reactants)} -> {_side(r.products)}",
                     "rate": " · ".join(factors), "exchange": exchange})
    return pd.DataFrame(rows)


def describe(network: Network) -> str:
    """The whole network as text."""
    with pd.option_context("display.max_colwidth", 90, "display.width", 250):
        parts = [
            f"network {network.spec.name}: {network.spec.description}",
            f"source {network.source}; cell volume {network.spec.cell_volume_pl:g} pL; inputs: "
            + ", ".join(f"{k} ({v.unit})" for k, v in network.spec.inputs.items()),
            "", "SPECIES", species_table(network).to_string(index=False),
            "", "PARAMETERS", parameter_table(network).to_string(index=False),
            "", "REACTIONS (rate: hill(x; K, n) = x^n/(K^n + x^n), rep(x; K, n) = K^n/(K^n + x^n))",
            reaction_table(network).to_string(index=False),
        ]
        if network.inhibitors:
            parts += ["", "INHIBITORS"] + [f"  {k}: {', '.join(v)} — {network.spec.inhibitors[k].description}"
                                           for k, v in network.inhibitors.items()]
        if network.genes:
            parts += ["", "GENES (knockout names)"] + [f"  {k}: {', '.join(v)}" for k, v in network.genes.items()]
    return "\n".join(parts) + "\n"
