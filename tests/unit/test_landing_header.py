import pytest

from sco_green.feeds import TRADE
from sco_green.landing import FileRejected, map_header


def test_header_order_and_case_do_not_matter() -> None:
    header = [c.upper() for c in reversed(TRADE.column_names)]
    positions, extras = map_header(TRADE, header)
    assert positions == list(reversed(TRADE.column_names))
    assert extras == []


def test_extra_columns_are_reported() -> None:
    positions, extras = map_header(TRADE, [*TRADE.column_names, "note"])
    assert positions[-1] is None and extras == ["note"]


def test_missing_column_rejects_with_its_name() -> None:
    with pytest.raises(FileRejected, match="hs6"):
        map_header(TRADE, [c for c in TRADE.column_names if c != "hs6"])


def test_column_named_twice_rejects() -> None:
    with pytest.raises(FileRejected, match="twice"):
        map_header(TRADE, [*TRADE.column_names, "YEAR"])
