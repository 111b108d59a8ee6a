"""The statistical rules inside the validation checks, on fabricated runs (no simulation)."""

from types import SimpleNamespace

import pandas as pd
import pytest

from boneabm.validation import READOUT_H, like_wild_type


class Fabricated:
    """A Validation stand-in: each arm's runs, each with its day-5 osteoclast count."""

    def __init__(self, **counts):
        self.counts = counts

    def arm(self, name):
        return [SimpleNamespace(timeseries=pd.DataFrame({"time_h": [READOUT_H], "n_osteoclasts": [n]}))
                for n in self.counts[name]]


@pytest.mark.parametrize("wild_type, knockout, same", [
    ([100], [125], True),        # within 30 % (noise sd √225 = 15, 3 sd = 45: the noise band is wider)
    ([1000], [1250], True),      # within 30 % and far outside the noise (sd ≈ 47): the 30 % band decides
    ([1000], [1400], False),     # 40 % off, 3 sd = 142: a real difference
    ([20, 20], [30, 30], True),  # 50 % off, yet 3 sd of two 2-run means (√(20/2 + 30/2) · 3 = 15) covers it
    ([20], [60], False),         # 3 sd = 3 √80 ≈ 27 < 40: not wild type
])
def test_same_as_wild_type_takes_the_wider_of_thirty_percent_and_three_sd_of_counting_noise(wild_type, knockout,
                                                                                               same):
    assert like_wild_type(Fabricated(wild_type=wild_type, ko=knockout), "ko") is same
