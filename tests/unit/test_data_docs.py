import re
from pathlib import Path

from sco_green.data_docs import CDN_COPIES, VENDOR, make_offline, remote_loads

PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css">
<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
 integrity="sha384-x" crossorigin="anonymous"></script>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=abc">
<a href="https://greatexpectations.io">a link is not a load</a>
</body></html>"""


def test_every_cdn_copy_is_vendored() -> None:
    missing = [local for local in CDN_COPIES.values() if not (VENDOR / local).is_file()]
    assert missing == []


def test_pages_at_any_depth_load_only_local_copies(tmp_path: Path) -> None:
    deep = tmp_path / "validations" / "suite" / "run" / "page.html"
    deep.parent.mkdir(parents=True)
    (tmp_path / "static" / "images").mkdir(parents=True)
    (tmp_path / "static" / "images" / "logo-long.png").write_bytes(b"png")  # GX ships its logo in the site
    for page in (tmp_path / "index.html", deep):
        page.write_text(PAGE, encoding="utf-8")
    assert remote_loads(PAGE)
    make_offline(tmp_path)
    for page in (tmp_path / "index.html", deep):
        html = page.read_text(encoding="utf-8")
        assert remote_loads(html) == []
        assert "dataContextId" not in html and "crossorigin" not in html
        loads = re.findall(r'<(?:script|link|img)[^>]*?(?:src|href)="([^"]+)"', html)
        assert len(loads) == 4 and all((page.parent / ref).is_file() for ref in loads)
    assert (tmp_path / "static" / "vendor" / "vega-5" / "vega.min.js").is_file()
