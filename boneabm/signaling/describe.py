"""A network as tables a biologist can read: species, parameters and reactions (``boneabm network``)."""

from __future__ import annotations

import textwrap

import pandas as pd

from boneabm.signaling.network import Network


def species_table(network: Network) -> pd.DataFrame:
    rows = []
    for name, spec in network.spec.species.items():
        initial = float(spec.initial.mean) if spec.initial.distribution == "fixed" else (
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
                                                            f"({target}; {m.K}, {m.n}"
                                                            + (f"; basal {m.basal})" if m.basal else ")"))
        exchange = f"takes {r.consumes}" if r.consumes else (f"gives {r.releases}" if r.releases else "")
        rows.append({"reaction": r.name, "equation": f"{_side(r.reactants)} -> {_side(r.products)}",
                     "exchange": exchange, "rate": " · ".join(factors)})  # the long column last: it wraps
    return pd.DataFrame(rows)


TABLES = {"species": species_table, "parameters": parameter_table, "reactions": reaction_table}
RATE_LEGEND = ("rate: hill(x; K, n) = x^n/(K^n + x^n), rep(x; K, n) = K^n/(K^n + x^n);\n"
               "with basal b: b + (1 - b)·hill (or rep)")


def text_table(frame: pd.DataFrame, width: int = 100) -> str:
    """Left-aligned columns that fit ``width``: the last column (a description or a source, the long one)
    wraps onto continuation lines under itself, so every column stays visible on a terminal. Where even the
    short columns leave too little room, each row becomes a block of ``column: value`` lines."""
    cells = frame.astype(str).to_numpy().tolist()
    header = [str(c) for c in frame.columns]
    fixed = [max([len(header[j]), *(len(row[j]) for row in cells)]) for j in range(len(header) - 1)]
    indent = sum(fixed) + 2 * len(fixed)
    last = width - indent
    if last < 24:
        blocks = []
        for row in cells:
            blocks.append(textwrap.fill(row[0], width))
            blocks += [textwrap.fill(f"{name}: {value}", width, initial_indent="  ", subsequent_indent="      ",
                                       break_on_hyphens=False)
                       for name, value in zip(header[1:], row[1:]) if value]
        return "\n".join(blocks)

    def lines(row: list[str]) -> list[str]:
        head = "".join(value.ljust(w + 2) for value, w in zip(row, fixed))
        wrapped = textwrap.wrap(row[-1], last, break_on_hyphens=False) or [""]
        return [(head if i == 0 else " " * indent) + part for i, part in enumerate(wrapped)]

    out = lines(header) + ["-" * min(indent + last, width)]
    for row in cells:
        out += lines(row)
    return "\n".join(line.rstrip() for line in out)


def markdown_table(frame: pd.DataFrame) -> str:
    cells = lambda row: "| " + " | ".join(str(v).replace("|", "/") for v in row) + " |"  # noqa: E731
    return "\n".join([cells(frame.columns), "|" + "---|" * len(frame.columns),
                      *(cells(row) for row in frame.itertuples(index=False))])


def describe(network: Network, fmt: str = "text", width: int = 100) -> str:
    """The whole network as terminal text (columns fitted to ``width``) or markdown."""
    table = (lambda frame: text_table(frame, width)) if fmt == "text" else markdown_table
    heading = (lambda title: title.upper()) if fmt == "text" else (lambda title: f"## {title}")
    bullet = "  " if fmt == "text" else "- "
    about = (f"network {network.spec.name}: {network.spec.description}\n\nsource {network.source}; cell volume "
             f"{network.spec.cell_volume_pl:g} pL; inputs: "
             + ", ".join(f"{k} ({v.unit})" for k, v in network.spec.inputs.items()))
    if fmt == "text":
        about = "\n".join(textwrap.fill(paragraph, width) for paragraph in about.split("\n"))
    parts = [
        about,
        "", heading("Species"), "", table(species_table(network)),
        "", heading("Parameters"), "", table(parameter_table(network)),
        "", heading("Reactions"), "", RATE_LEGEND, "", table(reaction_table(network)),
    ]
    if network.inhibitors:
        parts += ["", heading("Inhibitors"), ""] + [
            f"{bullet}{k}: {', '.join(v)} — {network.spec.inhibitors[k].description}"
            for k, v in network.inhibitors.items()]
    if network.genes:
        parts += ["", heading("Genes (knockout names)"), ""] + [
            f"{bullet}{k}: {', '.join(v)}" for k, v in network.genes.items()]
    if network.roles:
        parts += ["", heading("Roles (what a lineage reads, bound to this network's names)"), ""] + [
            f"{bullet}{role}: {name}" for role, name in network.roles.items()]
    if fmt == "text":  # list items wrap too, indented under their text
        parts = [textwrap.fill(p, width, subsequent_indent="    ") if p.startswith(bullet) else p for p in parts]
    return "\n".join(parts) + "\n"
