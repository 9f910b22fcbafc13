"""Which files may go to the server's CSV parser as they are: plain_records says how many
records a plain file has, and None for anything the csv module must judge."""

import io
from pathlib import Path

import numpy as np
import pytest

from sco_green import landing

HEADER = b"a,b,c\n"


def _file(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "feed.csv"
    path.write_bytes(body)
    return path


@pytest.mark.parametrize(
    ("body", "records"),
    [
        (HEADER + b"1,2,3\n4,5,6\n", 2),
        (HEADER + b"1,2,3\n4,5,6", 2),  # no newline after the last record
        (HEADER + b"1,,\n,,\n", 2),  # empty cells are still cells
        (HEADER, 0),
        (b"a,b,c", 0),
        ("名称,b,c\n中文,天津,子牙\n".encode(), 1),
        (b"a,b,c\r\n1,2,3\r\n4,5,6\r\n", 2),  # CR LF throughout
        (b"a,b,c\r\n1,2,3\r\n4,5,6", 2),
    ],
)
def test_a_plain_file_counts_its_records(tmp_path: Path, body: bytes, records: int) -> None:
    assert landing.plain_records(_file(tmp_path, body), 3) == records


@pytest.mark.parametrize(
    "body",
    [
        HEADER + b'1,"2,5",3\n',  # a quote: the csv module decides what is a cell
        HEADER + b"1,2,3\r\n4,5,6\r\n",  # line endings not alike
        b"a,b,c\r\n1,2,3\n",
        HEADER + b"1,2\r,3\n",  # a carriage return inside a line
        b"a,b,c\r\n1,2,3\r",  # nor does a CR end the file
        HEADER + b"1,2,3\n\n4,5,6\n",  # a blank line is no record for the csv module
        HEADER + b"1,2,3\n4,5,6\n\n",
        HEADER + b"1,2,3,4\n4,5,6\n",  # ragged: too long
        HEADER + b"1,2\n4,5,6\n",  # ragged: too short
        HEADER + b"1,2,3\n4,5",  # ragged last line without newline
        HEADER + b"1,2,3\n\\.\n4,5,6\n",  # COPY's end-of-data marker
    ],
)
def test_anything_the_csv_module_must_judge_is_not_plain(tmp_path: Path, body: bytes) -> None:
    assert landing.plain_records(_file(tmp_path, body), 3) is None


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_chunk_boundaries_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(landing, "READ_BYTES", chunk)
    plain = _file(tmp_path, HEADER + b"10,200,3\n4,50,600\n7,8,9")
    assert landing.plain_records(plain, 3) == 3
    ragged = _file(tmp_path, HEADER + b"10,200,3\n4,50600\n7,8,9,\n")
    assert landing.plain_records(ragged, 3) is None
    windows = _file(tmp_path, b"a,b,c\r\n10,200,3\r\n4,50,600\r\n7,8,9\r\n")
    assert landing.plain_records(windows, 3) == 3
    mixed = _file(tmp_path, b"a,b,c\r\n10,200,3\r\n4,50,600\n7,8,9\r\n")
    assert landing.plain_records(mixed, 3) is None


def test_a_single_column_file_is_never_plain(tmp_path: Path) -> None:
    """With one column a blank line has the right number of commas (none); leave it to csv."""
    assert landing.plain_records(_file(tmp_path, b"a\n1\n\n2\n"), 1) is None


@pytest.mark.parametrize(
    ("data", "first", "width", "numbered"),
    [
        (b"1,2,3\n4,5,6\n", 1, 1, b"1,1,2,3\n2,4,5,6\n"),
        (b"1,2,3\n4,5,6", 9, 2, b"09,1,2,3\n10,4,5,6"),  # the last line without its ending
        (b"1,2,3\r\n4,5,6\r\n", 99, 3, b"099,1,2,3\r\n100,4,5,6\r\n"),
        ("中文,天津,子牙\n".encode(), 5, 1, "5,中文,天津,子牙\n".encode()),
    ],
)
def test_numbered_lines_prefix_each_line_with_its_record_number(
    data: bytes, first: int, width: int, numbered: bytes
) -> None:
    assert landing.numbered_lines(data, first, width) == numbered


def test_numbered_lines_carry_each_line_flag_after_its_number() -> None:
    flags = np.array([True, False, True])
    assert landing.numbered_lines(b"a,b\nc,d\ne,f", 7, 2, flags) == b"07,t,a,b\n08,f,c,d\n09,t,e,f"


@pytest.mark.parametrize("size", [1, 5, 8, 1000])
def test_pieces_end_at_line_ends_and_keep_every_byte(size: int) -> None:
    data = b"1,2\n33,44\n\n555,666\n7,8"
    pieces = list(landing.line_pieces(io.BytesIO(data), size))
    assert b"".join(pieces) == data
    assert all(p.endswith(b"\n") for p in pieces[:-1])


@pytest.mark.parametrize("piece", [1, 4, 9, 10, 64])
def test_numbering_spans_take_every_line_once_in_order(monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    monkeypatch.setattr(landing, "NUMBER_BYTES", piece)
    data = b"1,2\n33,44\n555,666\n7,8"
    starts = landing.line_starts(data)
    spans = list(landing._numbering_spans(starts, len(data)))
    assert [line for first, stop in spans for line in range(first, stop)] == [0, 1, 2, 3]
    assert all(first < stop for first, stop in spans)


class EvenLines:
    """A screen clearing the lines whose first field is even, like a LineScreen's ``flags``."""

    def flags(self, data: bytes, starts: np.ndarray) -> np.ndarray:
        return np.array([int(line.split(b",")[0]) % 2 == 0 for line in bytes(data).splitlines()])


@pytest.mark.parametrize("size", [1, 10, 100, 1 << 20])
def test_blocks_screened_ahead_keep_every_line_with_its_own_flag(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    body = b"".join(b"%d,x,y\n" % n for n in range(1, 301))
    monkeypatch.setattr(landing, "SCREEN_BYTES", size)
    blocks = list(landing.screened_blocks(io.BytesIO(body), EvenLines()))
    assert b"".join(block for block, _, _ in blocks) == body
    assert all(len(starts) == len(flags) == block.count(b"\n") for block, starts, flags in blocks)
    flags = np.concatenate([flags for _, _, flags in blocks])
    assert flags.tolist() == [n % 2 == 0 for n in range(1, 301)]


def test_a_screen_failing_in_its_thread_fails_the_landing() -> None:
    class Broken:
        def flags(self, data: bytes, starts: np.ndarray) -> np.ndarray:
            raise ValueError("screen broke")

    with pytest.raises(ValueError, match="screen broke"):
        list(landing.screened_blocks(io.BytesIO(b"1,x,y\n2,x,y\n"), Broken()))


def test_without_a_screen_blocks_carry_no_flags() -> None:
    blocks = list(landing.screened_blocks(io.BytesIO(b"1,x,y\n2,x,y"), None))
    assert [(block, starts.tolist(), flags) for block, starts, flags in blocks] == [
        (b"1,x,y\n", [0], None),
        (b"2,x,y", [0], None),  # the last line, without its ending, is read as a piece of its own
    ]
