"""What a lineage tells the views about drawing its cells (each lineage's own ``drawing.py`` fills one in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LineageStyle:
    name: str
    colours: dict[str, str]  # state -> colour, in drawing order (later on top)
    labels: dict[str, str]  # state -> legend text
    diameter_um: Callable[[np.ndarray, float], np.ndarray]  # (nuclei, site pitch µm) -> drawn diameter, µm
