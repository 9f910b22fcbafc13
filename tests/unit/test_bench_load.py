"""The load bench keeps the feeds a run did not measure, each with its own provenance."""

from __future__ import annotations

from bench.__main__ import median_run, merge_load_results


def _feed(commit: str, seconds: float) -> dict[str, object]:
    return {"commit": commit, "measured_on": "2026-11-26", "project_full": {"seconds": seconds}}


def test_a_run_of_one_feed_replaces_that_feed_and_keeps_the_other() -> None:
    previous = {"scale": "large", "feeds": {"trade": _feed("aaa", 52.4), "recycling": _feed("aaa", 25.6)}}
    run = {"scale": "large", "feeds": {"recycling": _feed("bbb", 20.1)}}
    merged = merge_load_results(previous, run)
    assert merged["feeds"]["trade"] == _feed("aaa", 52.4)
    assert merged["feeds"]["recycling"] == _feed("bbb", 20.1)
    assert list(merged["feeds"]) == ["trade", "recycling"]


def test_results_of_another_scale_are_not_mixed_in() -> None:
    previous = {"scale": "medium", "feeds": {"trade": _feed("aaa", 5.0)}}
    run = {"scale": "large", "feeds": {"recycling": _feed("bbb", 20.1)}}
    assert merge_load_results(previous, run) == run
    assert merge_load_results(None, run) == run


def test_repeated_runs_report_the_median_time_the_highest_peak_and_every_run() -> None:
    runs = [
        {"seconds": 15.1, "rows": 1000, "peak_rss_mib": 248.0},
        {"seconds": 12.9, "rows": 1000, "peak_rss_mib": 255.0},
        {"seconds": 13.3, "rows": 1000, "peak_rss_mib": 251.0},
    ]
    assert median_run(runs) == {"seconds": 13.3, "rows": 1000, "peak_rss_mib": 255.0, "runs": [15.1, 12.9, 13.3]}


def test_a_single_run_is_reported_as_it_was() -> None:
    assert median_run([{"seconds": 2.2}]) == {"seconds": 2.2}


def test_the_first_night_bench_reads_each_dag_line_the_nightly_prints() -> None:
    from bench.__main__ import NIGHT_LINE
    from sco_green.nightly import DagOutcome

    for outcome in (DagOutcome("ingest_trade", "success", 33.46), DagOutcome("build_warehouse", "failed", 120.0)):
        match = NIGHT_LINE.match(outcome.line())
        assert match and match.groups() == (outcome.dag_id, outcome.state, f"{outcome.seconds:.1f}")
