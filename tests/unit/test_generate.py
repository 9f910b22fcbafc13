import hashlib
from pathlib import Path

from sco_green.decode import inspect_file
from sco_green.generate import generate


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.csv"))}


def test_generation_is_deterministic(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=3, faults=True, cycle=2)
    generate(tmp_path / "b", seed=3, faults=True, cycle=2)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_later_nights_keep_earlier_files_except_the_redrop(tmp_path: Path) -> None:
    generate(tmp_path / "n1", faults=True, cycle=1)
    generate(tmp_path / "n2", faults=True, cycle=2)
    one, two = _digests(tmp_path / "n1"), _digests(tmp_path / "n2")
    changed = {name for name in one if one[name] != two[name]}
    assert changed == {"trade/trade_2020_2025_r0.csv"}
    assert set(one) < set(two)


def test_faulty_night_uses_every_contract_encoding(tmp_path: Path) -> None:
    generate(tmp_path, faults=True, cycle=2)
    encodings = {inspect_file(p).encoding for p in tmp_path.rglob("*.csv")}
    assert {"utf-8", "utf-8-sig", "gb18030", None} <= encodings


def test_seed_changes_the_content(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=1)
    generate(tmp_path / "b", seed=2)
    assert _digests(tmp_path / "a") != _digests(tmp_path / "b")


def test_every_generator_scale_can_be_asked_for_on_the_command_line() -> None:
    from sco_green.cli import _parser
    from sco_green.generate import SCALES

    parser = _parser()
    for scale in SCALES:
        assert parser.parse_args(["generate", "--out", "x", "--scale", scale]).scale == scale
