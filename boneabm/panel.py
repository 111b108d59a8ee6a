"""Panels: named arms of one base experiment, each the base with a few ``--set`` overrides.

    panel: perturbations
    base: osteoclastogenesis                # a file relative to the panel file, or a shipped example
    arms:
      wild_type: []
      dap12_ko: ["signaling.knockouts=[Tyrobp]"]

Every arm's experiment is the base with its overrides and nothing else, so arms compare like for like.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from boneabm.catalog import base_experiment
from boneabm.config import Experiment, load_experiment
from boneabm.errors import UserError, validation_lines
from boneabm.yamlio import read_yaml


class _PanelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    panel: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    base: str
    arms: dict[str, list[str]] = Field(min_length=1)


@dataclass(frozen=True)
class Panel:
    name: str
    base: Path
    arms: dict[str, list[str]]

    def experiment(self, arm: str, overrides: list[str] | tuple[str, ...] = ()) -> Experiment:
        """The base experiment with the arm's overrides (then ``overrides``), named ``<panel>-<arm>``."""
        if arm not in self.arms:
            raise UserError(f"panel {self.name}: no arm {arm!r}; arms: {', '.join(self.arms)}")
        experiment = load_experiment(self.base, [*self.arms[arm], *overrides])
        return experiment.model_copy(update={"name": f"{self.name}-{arm}"})


def load_panel(path: str | Path) -> Panel:
    path = Path(path)
    try:
        spec = _PanelSpec.model_validate(read_yaml(path))
    except ValidationError as exc:
        lines = validation_lines(exc.errors(include_url=False), _PanelSpec)
        raise UserError(f"{path}: invalid panel:\n  " + "\n  ".join(lines)) from None
    panel = Panel(spec.panel, base_experiment(path.parent, spec.base), dict(spec.arms))
    for arm in panel.arms:  # every arm must be a valid experiment before anything runs
        panel.experiment(arm)
    return panel
