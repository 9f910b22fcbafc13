"""Which inbox files the feeds read, and which they name as not read."""

from __future__ import annotations

from pathlib import Path

from sco_green.pipeline import inbox_files, unread_files


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("year\n")


def test_files_no_feed_reads_are_named_and_feed_csvs_are_not(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "trade/trade_2025.csv",
        "trade/trade_2026.CSV",  # the extension's case does not matter
        "trade/trade_2025.xlsx",
        "trade/2025/trade_2025_r1.csv",  # feeds do not look into subfolders
        "Trade/trade_2024.csv",  # nor into a misspelt feed folder
        "tickets/tickets_ZIYA_2025.csv",
        "members/members_20251231.csv",
        "readme.txt",
        "recycling/.DS_Store",  # hidden files are not anybody's data
        ".cache/x.csv",
    )
    assert [p.name for p in inbox_files(tmp_path, "trade")] == ["trade_2025.csv", "trade_2026.CSV"]
    assert unread_files(tmp_path) == [
        "Trade/trade_2024.csv",
        "readme.txt",
        "tickets/tickets_ZIYA_2025.csv",
        "trade/2025/trade_2025_r1.csv",
        "trade/trade_2025.xlsx",
    ]
    assert unread_files(tmp_path, "trade") == ["trade/2025/trade_2025_r1.csv", "trade/trade_2025.xlsx"]
    assert unread_files(tmp_path, "recycling") == []


def test_an_inbox_of_feed_csvs_only_has_nothing_unread(tmp_path: Path) -> None:
    _touch(tmp_path, "trade/trade_2025.csv", "recycling/tickets_ZIYA_2025.csv", "members/members_20251231.csv")
    assert unread_files(tmp_path) == []
    assert unread_files(tmp_path / "missing") == []
