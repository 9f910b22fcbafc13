from pathlib import Path

from sco_green.decode import GB18030, UTF8, UTF8_BOM, inspect_file


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def test_plain_utf8_is_utf8(tmp_path: Path) -> None:
    facts = inspect_file(_file(tmp_path, "a,b\n子牙,1\n".encode()))
    assert facts.encoding == UTF8
    assert facts.size_bytes == len("a,b\n子牙,1\n".encode())


def test_bom_is_detected(tmp_path: Path) -> None:
    assert inspect_file(_file(tmp_path, b"\xef\xbb\xbfa,b\n1,2\n")).encoding == UTF8_BOM


def test_gb18030_chinese_is_detected(tmp_path: Path) -> None:
    assert inspect_file(_file(tmp_path, "name\n天津子牙经济技术开发区\n".encode("gb18030"))).encoding == GB18030


def test_latin1_bytes_are_rejected_with_position(tmp_path: Path) -> None:
    facts = inspect_file(_file(tmp_path, "a\ncaf\xe9,\n".encode("latin-1")))
    assert facts.encoding is None
    assert "byte 5" in facts.problem


def test_nul_bytes_are_rejected(tmp_path: Path) -> None:
    facts = inspect_file(_file(tmp_path, b"a,b\n1,\x002\n"))
    assert facts.encoding is None
    assert "NUL" in facts.problem


def test_same_bytes_same_sha(tmp_path: Path) -> None:
    a = inspect_file(_file(tmp_path, b"x\n1\n"))
    other = tmp_path / "g.csv"
    other.write_bytes(b"x\n1\n")
    assert inspect_file(other).sha256 == a.sha256


def test_utf8_error_in_a_late_chunk_is_found(tmp_path: Path) -> None:
    big = b"a,b\n" + b"1,2\n" * 400_000 + b"\xff\n"
    facts = inspect_file(_file(tmp_path, big))
    assert facts.encoding is None


def test_cyrillic_windows_1251_that_happens_to_decode_as_gb18030_is_rejected_naming_it(tmp_path: Path) -> None:
    text = "member_id,name_en\nKZ001,АО Казахмыс\nRU002,АО Северсталь\nRU003,АО Роснефть Лукойл\n"
    data = text.encode("cp1251")
    data.decode("gb18030")  # the trap: these bytes are valid GB18030
    facts = inspect_file(_file(tmp_path, data))
    assert facts.encoding is None
    assert "cp1251" in facts.problem and "re-save the file as UTF-8" in facts.problem


def test_gb18030_member_names_keep_loading(tmp_path: Path) -> None:
    text = (
        "member_id,name_en,name_zh\nCN001,Ziya Park,天津子牙经济技术开发区\nCN002,Renewable,中国再生资源开发有限公司\n"
    )
    assert inspect_file(_file(tmp_path, text.encode("gb18030"))).encoding == GB18030


def test_a_file_growing_while_it_is_hashed_is_marked_changed(tmp_path: Path) -> None:
    import threading

    path = _file(tmp_path, b"a,b\n" + b"1,2\n" * 2_000_000)
    stop = threading.Event()

    def grow() -> None:
        with open(path, "ab") as handle:
            while not stop.is_set():
                handle.write(b"3,4\n")
                handle.flush()

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        facts = inspect_file(path)
    finally:
        stop.set()
        writer.join()
    assert facts.changed


def test_a_file_at_rest_is_not_marked_changed(tmp_path: Path) -> None:
    assert not inspect_file(_file(tmp_path, b"a,b\n1,2\n")).changed
