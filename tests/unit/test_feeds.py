from datetime import date

from sco_green.feeds import MEMBERS, TRADE, feed


def test_members_file_date_comes_from_the_name() -> None:
    assert MEMBERS.file_date("members_20251229.csv") == date(2025, 12, 29)


def test_members_file_without_valid_date_has_none() -> None:
    assert MEMBERS.file_date("members_20251340.csv") is None
    assert MEMBERS.file_date("members.csv") is None


def test_members_file_date_takes_ascii_digits_only() -> None:
    # int() reads Arabic-Indic digits; the staging model's [0-9] would not, and drop the snapshot.
    assert MEMBERS.file_date("members_\u0662\u0660\u0662\u0665\u0660\u0669\u0663\u0660.csv") is None


def test_a_members_name_without_a_real_date_is_a_problem_and_other_feeds_names_are_not() -> None:
    assert MEMBERS.name_problem("members_20250930.csv") is None
    for name in ("members_20250931.csv", "members_latest.csv", "Members_20250930.CSV"):
        problem = MEMBERS.name_problem(name)
        assert problem is not None and name in problem and "members_YYYYMMDD.csv" in problem
    assert TRADE.name_problem("TRADE_2024.CSV") is None


def test_trade_key_is_the_contract_key() -> None:
    assert TRADE.key == ("year", "reporter_iso3", "partner_iso3", "flow", "hs_version", "hs6")


def test_unknown_feed_is_an_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown feed"):
        feed("fish")
