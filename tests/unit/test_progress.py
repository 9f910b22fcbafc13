import os

from sco_green.progress import Progress


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
        if len(data) < 65536:
            break
    return b"".join(chunks).decode()


def test_plain_lines_with_rate_when_not_a_terminal() -> None:
    read, write = os.pipe()
    progress = Progress("land x.csv", total=1000, fd=write, interval_plain=0)
    progress.update(500, 500)
    progress.finish(1000)
    os.close(write)
    text = _read_all(read)
    assert "\r" not in text and "#" not in text
    assert "land x.csv: 500 rows" in text and "/s" in text
    assert text.rstrip().splitlines()[-1].startswith("  land x.csv: 1,000 rows in")


def test_bar_on_a_terminal() -> None:
    leader, follower = os.openpty()
    progress = Progress("land x.csv", total=1000, fd=follower, interval_tty=0)
    progress.update(250, 500)
    text = _read_all(leader)
    assert text.startswith("\r") and "[###############---------------]" in text and "50.0%" in text
