"""Releases, provenance and restatements: a published figure followed to its files and rows, and every
later change to it recorded with the loads that made it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import psycopg
import pytest

from sco_green.cli import main
from sco_green.generate import generate
from sco_green.paths import var_dir
from sco_green.releases import detect_restatements

EXPORTS = (
    "SELECT sum(trade_value_usd) FROM marts.fct_trade WHERE year = 2025 AND flow = 'X'"
    " AND green_category IS NOT NULL AND reporter_iso3 = %s"
)


def _publish(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["report", "--year", "2025", "--publish", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_published_figure_is_traced_and_its_later_change_recorded_with_the_loads_that_made_it(
    tmp_path: Path, warehouse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    generate(inbox, cycle=1, faults=True)
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-29"]) == 0
    capsys.readouterr()

    code, _, err = _publish(capsys)
    assert code == 1 and "DRAFT" in err and "--allow-incomplete" in err  # the sample year lacks H2 tickets
    code, out, _ = _publish(capsys, "--allow-incomplete", "H2 tickets arrive in January")
    assert code == 0
    first_html = Path(out.strip()).read_text(encoding="utf-8")
    assert "DRAFT" in first_html
    with psycopg.connect(warehouse_url) as conn:
        release, complete, reason, digest = conn.execute(
            "SELECT release_id, complete, incomplete_reason, html_sha256 FROM audit.report_releases"
        ).fetchone()
        assert (complete, reason) == (False, "H2 tickets arrive in January")
        published = dict(
            conn.execute("SELECT figure_id, value FROM audit.report_figures WHERE release_id = %s", (release,))
        )
        kaz_before = conn.execute(EXPORTS, ("KAZ",)).fetchone()[0]
    assert hashlib.sha256(first_html.encode("utf-8")).hexdigest() == digest
    shown = set(re.findall(r'data-figure-id="([^"]+)"', first_html))
    assert shown and shown <= set(published)
    assert published["trade.exports_usd.KAZ.2025"] == kaz_before

    # Night 2: a higher trade revision, ticket corrections and VOIDs, a later members snapshot.
    generate(inbox, cycle=2, faults=True)
    assert main(["nightly", "--inbox", str(inbox), "--logical-date", "2025-12-30"]) == 0
    with psycopg.connect(warehouse_url) as conn:
        restated = {
            figure_id: (old, new, cause)
            for figure_id, old, new, cause in conn.execute(
                "SELECT figure_id, published_value, current_value, cause FROM audit.restatements WHERE release_id = %s",
                (release,),
            )
        }
        night_two = dict(
            conn.execute(
                "SELECT file_name, load_id FROM audit.load_ledger WHERE loaded_at > (SELECT published_at"
                " FROM audit.report_releases WHERE release_id = %s)",
                (release,),
            )
        )
        for reporter in ("KAZ", "CHN", "RUS"):
            figure = f"trade.exports_usd.{reporter}.2025"
            now = conn.execute(EXPORTS, (reporter,)).fetchone()[0]
            if now != published[figure]:
                old, new, cause = restated[figure]
                assert (old, new) == (published[figure], now)
                assert {c["file_name"] for c in cause if c["change"] == "new"} <= set(night_two)
        trade_changes = [f for f in restated if f.startswith("trade.")]
        assert trade_changes, "the higher revision changed no published trade figure"
        assert any(
            c["file_name"] == "trade_2025_r1.csv" and c["load_id"] == night_two["trade_2025_r1.csv"]
            for f in trade_changes
            for c in restated[f][2]
        )
        assert "members.active.ALL.2025" in restated  # the later snapshot
        before = conn.execute("SELECT count(*) FROM audit.restatements").fetchone()[0]
        with conn.transaction():
            assert detect_restatements(conn) == 0  # nothing new: each change is recorded once
        assert conn.execute("SELECT count(*) FROM audit.restatements").fetchone()[0] == before

    capsys.readouterr()
    code, out, _ = _publish(capsys, "--allow-incomplete", "H2 tickets arrive in January")
    assert code == 0
    second_html = Path(out.strip()).read_text(encoding="utf-8")
    assert "Revisions to published figures" in second_html and "对已发布数据的修订" in second_html
    with psycopg.connect(warehouse_url) as conn:
        ids = [
            set(r[0] for r in conn.execute("SELECT figure_id FROM audit.report_figures WHERE release_id = %s", (n,)))
            for n in (release, release + 1)
        ]
    assert {f for f in ids[0] if f.startswith(("trade.", "members."))} <= ids[1]  # stable ids across releases

    assert main(["trace", "trade.exports_usd.KAZ.2025", "--format", "json"]) == 0
    traced = json.loads(capsys.readouterr().out)
    assert traced["release_id"] == release + 1
    with psycopg.connect(warehouse_url) as conn:
        behind = dict(
            conn.execute(
                "SELECT source_file, count(*) FROM marts.fct_trade WHERE year = 2025 AND flow = 'X'"
                " AND green_category IS NOT NULL AND reporter_iso3 = 'KAZ' GROUP BY 1"
            )
        )
        ledger = {r[0]: r[1] for r in conn.execute("SELECT load_id, sha256 FROM audit.load_ledger")}
        by_rule = {}
        for load_id, rule, n in conn.execute(
            "SELECT load_id, rule, count(*) FROM audit.quarantine, unnest(rules) AS rule GROUP BY 1, 2"
        ):
            by_rule.setdefault(load_id, {})[rule] = n
    assert {f["file_name"]: f["rows_behind"] for f in traced["files"] if f["rows_behind"]} == behind
    assert all(ledger[f["load_id"]] == f["sha256"] for f in traced["files"])
    assert {f["load_id"]: f["rows_quarantined"] for f in traced["files"]} == {
        f["load_id"]: by_rule.get(f["load_id"], {}) for f in traced["files"]
    }

    assert main(["trace", "recycling.inbound_t.ZIYA.weee.2025"]) == 0
    text = capsys.readouterr().out
    assert "tickets_ZIYA" in text and "rows behind the figure" in text
    assert re.search(r"rows quarantined: [1-9]\d* \(R", text)  # the faulted ZIYA file's rows, by rule
    assert main(["trace", "trade.exports_usd.ATLANTIS.2025"]) == 1
    assert (var_dir() / "reports" / "releases" / "2025" / f"release_{release + 1}.html").is_file()
