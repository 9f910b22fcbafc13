"""Which of the contract's encodings a file is in: UTF-8, UTF-8 with BOM, or GB18030.

Detection reads the whole file once, in chunks, through strict incremental decoders
(the same pass computes the SHA-256), so memory stays bounded and a bad byte at the
end of a 1 GB file is still found before anything is loaded.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
BOM = codecs.BOM_UTF8

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size_bytes: int
    encoding: str | None  # None: not one of the accepted encodings
    problem: str | None  # why it was not accepted


def _valid_in(path: Path, encoding: str) -> tuple[bool, str | None]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return False, f"byte {offset + exc.start}: {exc.reason}"
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return False, f"byte {offset + exc.start}: {exc.reason}"
    return True, None


def inspect_file(path: Path) -> FileFacts:
    """Hash the file and name its encoding, or say why it has none we accept."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder(UTF8)(errors="strict")
    utf8_ok, utf8_problem = True, None
    has_nul = False
    size = 0
    head = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if size == 0:
                head = chunk[:3]
            digest.update(chunk)
            has_nul = has_nul or b"\x00" in chunk
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8_ok, utf8_problem = False, f"byte {size + exc.start}: {exc.reason}"
            size += len(chunk)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            utf8_ok, utf8_problem = False, f"byte {size + exc.start}: {exc.reason}"
    sha = digest.hexdigest()
    if has_nul:
        return FileFacts(sha, size, None, "contains NUL bytes: not a text CSV")
    if utf8_ok:
        return FileFacts(sha, size, UTF8_BOM if head == BOM else UTF8, None)
    gb_ok, gb_problem = _valid_in(path, GB18030)
    if gb_ok:
        return FileFacts(sha, size, GB18030, None)
    return FileFacts(
        sha,
        size,
        None,
        f"not UTF-8 ({utf8_problem}) nor GB18030 ({gb_problem})",
    )
