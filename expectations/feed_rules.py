"""Which contract rules check a file, and the name of the suite they form.

Kept apart from the GX suites so that deciding and publishing loads never imports Great
Expectations (about 5 s): a night with an empty inbox needs none of it.
"""

from __future__ import annotations

from expectations.members import members_rules
from expectations.recycling import recycling_rules, recycling_screen
from expectations.rules import Rule
from expectations.screens import RecordScreen
from expectations.trade import trade_rules, trade_screen
from sco_green.feeds import feed


def rules_for(feed_name: str, file_name: str) -> list[Rule]:
    """The rules one file is checked against (members rules depend on the file's date)."""
    spec = feed(feed_name)
    if feed_name == "members":
        return members_rules(spec.file_date(file_name))
    if feed_name == "trade":
        return trade_rules()
    return recycling_rules()


def screen_for(feed_name: str) -> RecordScreen | None:
    """The feed's record screen (expectations/screens.py); None for a feed without one, whose
    rows are all checked in SQL."""
    if feed_name == "trade":
        return trade_screen()
    if feed_name == "recycling":
        return recycling_screen()
    return None


def suite_name(feed_name: str) -> str:
    return f"{feed_name}_contract"
