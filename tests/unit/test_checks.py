from sco_green.checks import dbt_check_rows

TARGETS = {
    "test.sco_green.not_null_fct_trade_year.abc": ("not_null_fct_trade_year", "fct_trade", "error"),
    "unit_test.sco_green.int_trade__winning_revisions.highest_wins": (
        "highest_wins",
        "int_trade__winning_revisions",
        "error",
    ),
}


def test_each_test_becomes_a_check_row_with_its_model_and_failures() -> None:
    results = {
        "metadata": {"generated_at": "2026-12-05T02:00:00Z"},
        "results": [
            {"unique_id": "test.sco_green.not_null_fct_trade_year.abc", "status": "fail", "failures": 3},
            {"unique_id": "unit_test.sco_green.int_trade__winning_revisions.highest_wins", "status": "pass"},
            {"unique_id": "model.sco_green.fct_trade", "status": "success"},
            {"unique_id": "test.sco_green.skipped_one.def", "status": "skipped"},
        ],
    }
    assert dbt_check_rows(results, TARGETS) == [
        ("2026-12-05T02:00:00Z", "not_null_fct_trade_year", "fct_trade", "error", False, 3),
        ("2026-12-05T02:00:00Z", "highest_wins", "int_trade__winning_revisions", "error", True, 0),
    ]


def test_a_model_that_fails_to_build_is_a_failed_check_of_that_model() -> None:
    results = {"metadata": {}, "results": [{"unique_id": "model.sco_green.fct_trade", "status": "error"}]}
    assert dbt_check_rows(results, TARGETS) == [(None, "build_fct_trade", "fct_trade", "error", False, 1)]
