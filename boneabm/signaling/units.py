"""Units of a reaction network: a small parser that turns ``1/(nM*min)`` into a factor and a dimension.

Canonical units: concentration in nM, counts in molecules, time in hours. A dimension is the exponent triple
(concentration, count, time); ``1/(nM*min)`` is 60 × (-1, 0, -1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BASE = {
    "s": (1 / 3600, (0, 0, 1)), "sec": (1 / 3600, (0, 0, 1)), "min": (1 / 60, (0, 0, 1)),
    "h": (1.0, (0, 0, 1)), "d": (24.0, (0, 0, 1)),
    "pM": (1e-3, (1, 0, 0)), "nM": (1.0, (1, 0, 0)), "uM": (1e3, (1, 0, 0)), "µM": (1e3, (1, 0, 0)),
    "molecule": (1.0, (0, 1, 0)), "molecules": (1.0, (0, 1, 0)),
}
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-zµ]+)|(?P<number>\d+)|(?P<op>[*/()^]))")


class UnitError(ValueError):
    pass


@dataclass(frozen=True)
class Unit:
    factor: float  # multiply a value in this unit by factor to get canonical units
    dims: tuple[int, int, int]  # exponents of (concentration, count, time)

    def __mul__(self, other: Unit) -> Unit:
        return Unit(self.factor * other.factor, tuple(a + b for a, b in zip(self.dims, other.dims)))

    def __truediv__(self, other: Unit) -> Unit:
        return Unit(self.factor / other.factor, tuple(a - b for a, b in zip(self.dims, other.dims)))

    def __pow__(self, k: int) -> Unit:
        return Unit(self.factor**k, tuple(a * k for a in self.dims))


DIMENSIONLESS = Unit(1.0, (0, 0, 0))


def parse_unit(text: str) -> Unit:
    """Parse a unit such as ``1/h``, ``nM``, ``1/(nM*min)``, ``molecules/h``, ``1``."""
    tokens, position = [], 0
    text = str(text).strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnitError(f"unit {text!r}: cannot read {text[position:]!r}")
        tokens.append(match)
        position = match.end()
    index = 0

    def peek():
        return tokens[index] if index < len(tokens) else None

    def atom() -> Unit:
        nonlocal index
        token = peek()
        if token is None:
            raise UnitError(f"unit {text!r}: ends too early")
        index += 1
        if token["name"]:
            if token["name"] not in _BASE:
                raise UnitError(f"unit {text!r}: unknown unit {token['name']!r}; known: {', '.join(_BASE)}")
            factor, dims = _BASE[token["name"]]
            return Unit(factor, dims)
        if token["number"] == "1":
            return DIMENSIONLESS
        if token["op"] == "(":
            inner = term()
            if peek() is None or peek()["op"] != ")":
                raise UnitError(f"unit {text!r}: unbalanced parentheses")
            index += 1
            return inner
        raise UnitError(f"unit {text!r}: unexpected {token.group().strip()!r}")

    def factor() -> Unit:
        nonlocal index
        unit = atom()
        if peek() is not None and peek()["op"] == "^":
            index += 1
            token = peek()
            if token is None or not token["number"]:
                raise UnitError(f"unit {text!r}: '^' needs a whole number")
            index += 1
            unit = unit ** int(token["number"])
        return unit

    def term() -> Unit:
        nonlocal index
        unit = factor()
        while peek() is not None and peek()["op"] in ("*", "/"):
            op = peek()["op"]
            index += 1
            unit = unit * factor() if op == "*" else unit / factor()
        return unit

    if not tokens:
        raise UnitError("empty unit")
    unit = term()
    if index != len(tokens):
        raise UnitError(f"unit {text!r}: unexpected {tokens[index].group().strip()!r}")
    return unit
