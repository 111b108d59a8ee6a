"""Doses can stop: a number of repeats (count) or a time after which none is given (stop_h), so a treatment
window is written directly."""

import re

import pytest

from boneabm.config import DoseConfig
from boneabm.errors import UserError
from boneabm.model import BoneModel

DT = 0.1


def ticks(dose: DoseConfig, until_h: float = 200) -> list[float]:
    return [round(tick * DT, 6) for tick in range(round(until_h / DT)) if dose.due(tick, DT)]


def test_single_repeated_counted_and_windowed_doses():
    assert ticks(DoseConfig(drug="opg_fc", ng_ml=100, at_h=24)) == [24.0]
    assert ticks(DoseConfig(drug="opg_fc", ng_ml=100, at_h=24, every_h=48)) == [24.0, 72.0, 120.0, 168.0]
    assert ticks(DoseConfig(drug="opg_fc", ng_ml=100, at_h=24, every_h=48, count=2)) == [24.0, 72.0]
    assert ticks(DoseConfig(drug="opg_fc", ng_ml=100, at_h=24, every_h=12, stop_h=60)) == [24.0, 36.0, 48.0]
    assert ticks(DoseConfig(drug="opg_fc", ng_ml=100, at_h=0, count=1)) == [0.0]


@pytest.mark.parametrize("dose, says", [
    ({"count": 3}, "count = 3 doses need every_h"),
    ({"every_h": 12, "stop_h": 24}, "stop_h = 24.0 must come after at_h = 24.0"),
    ({"every_h": 12, "stop_h": 30.05}, "doses[0].stop_h = 30.05: not a whole number of ticks"),
])
def test_bad_repeats_are_refused_naming_the_key(small, dose, says):
    with pytest.raises(UserError, match=re.escape(says)):
        small(doses=[{"drug": "opg_fc", "ng_ml": 100, "at_h": 24, **dose}])


def test_the_model_doses_only_inside_the_window(small):
    """Three daily OPG-Fc doses in a tissue without medium: the OPG in the fields rises at each, then no more."""
    model = BoneModel(small(fields={"mode": "tissue"}, medium={"change_every_h": None}, time={"duration_h": 6},
                            doses=[{"drug": "opg_fc", "ng_ml": 100, "at_h": 1, "every_h": 1, "count": 3}]))
    amounts = []
    for _ in range(60):
        model.step()
        amounts.append(model.fields.amount("opg") + model.fields.amount("rankl_opg"))
    rises = [i for i in range(1, 60) if amounts[i] > amounts[i - 1] * 1.05]
    assert [round((i + 1) * DT, 6) for i in rises] == [1.1, 2.1, 3.1]  # dosed at the start of the ticks at 1, 2, 3 h
