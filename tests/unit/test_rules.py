"""Rules on typed rows: only warnings, and tagged apart from the rules on the landed text."""

import pytest

from expectations.rules import BLOCK, WARN, Rule, tagging_query, typed_tagging_query, where
from expectations.trade import trade_rules


def test_a_rule_on_typed_rows_cannot_block() -> None:
    """Rows breaking a block rule never reach the typed rows, so such a rule could not see them."""
    with pytest.raises(ValueError, match="must be a warning"):
        Rule("X01", BLOCK, "typed", "SELECT source_row FROM {typed} WHERE year < 2000")
    assert Rule("X01", WARN, "typed", "SELECT source_row FROM {typed} WHERE year < 2000").reads_typed


def test_each_rule_is_tagged_from_the_table_it_reads() -> None:
    rules = [*trade_rules(), Rule("X02", BLOCK, "text", where("flow = 'Q'"))]
    landed = tagging_query(rules, "landing.trade_1")
    typed = typed_tagging_query(rules, "landing.trade_1_typed")
    assert "'unit_value_outlier'" not in landed and "{typed}" not in landed
    assert "'X02'" in landed and "'T10'" in landed
    assert typed is not None and "'unit_value_outlier'" in typed and "'T10'" not in typed
    assert "landing.trade_1_typed" in typed
    assert typed_tagging_query([r for r in rules if not r.reads_typed], "t") is None
