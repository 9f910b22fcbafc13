from datetime import date

from sco_green.feeds import MEMBERS, TRADE, feed


def test_members_file_date_comes_from_the_name() -> None:
    assert MEMBERS.file_date("members_20251229.csv") == date(2025, 12, 29)


def test_members_file_without_valid_date_has_none() -> None:
    assert MEMBERS.file_date("members_20251340.csv") is None
    assert MEMBERS.file_date("members.csv") is None


def test_trade_key_is_the_contract_key() -> None:
    assert TRADE.key == ("year", "reporter_iso3", "partner_iso3", "flow", "hs_version", "hs6")


def test_unknown_feed_is_an_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown feed"):
        feed("fish")
