"""Paths the plugin serves stay inside their folder."""

from pathlib import Path

import pytest
from fastapi import HTTPException

from sco_green.web import confined


@pytest.fixture
def site(tmp_path: Path) -> Path:
    base = tmp_path / "var" / "data_docs"
    (base / "static").mkdir(parents=True)
    (base / "index.html").write_text("docs")
    (base / "static" / "a.css").write_text("css")
    (tmp_path / "var" / "secret.txt").write_text("secret")
    (base / "escape.html").symlink_to(tmp_path / "var" / "secret.txt")
    (base / "inside.html").symlink_to(base / "index.html")
    return base


def test_files_inside_the_folder_are_served(site: Path) -> None:
    assert confined(site, "static/a.css").read_text() == "css"
    assert confined(site, "").name == "index.html"
    assert confined(site, "inside.html").read_text() == "docs"


@pytest.mark.parametrize(
    "path", ["../secret.txt", "static/../../secret.txt", "escape.html", "/etc/passwd", "nope.html"]
)
def test_a_path_out_of_the_folder_or_missing_is_refused(site: Path, path: str) -> None:
    with pytest.raises(HTTPException) as refused:
        confined(site, path)
    assert refused.value.status_code == 404
