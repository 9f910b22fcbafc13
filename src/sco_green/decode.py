"""Which of the contract's encodings a file is in: UTF-8, UTF-8 with BOM, or GB18030.

Detection reads the whole file once, in chunks, through strict incremental decoders
(the same pass computes the SHA-256), so memory stays bounded and a bad byte at the
end of a 1 GB file is still found before anything is loaded.

GB18030 decodes most byte strings without error (two bytes of 0x81-0xFE make a character),
so a file that is not UTF-8 but decodes as GB18030 is also judged for plausibility: a
sample of its non-ASCII lines goes to charset-normalizer, and when GB18030 is not among the
encodings it finds plausible (a Windows-1251 file of Cyrillic names, say) the file is
rejected with the likely encoding named, never loaded as Chinese-looking mojibake.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
BOM = codecs.BOM_UTF8

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"


# What a non-UTF-8 file from an SCO member is likely to be in: GB18030, or a legacy code page
# of the region (Cyrillic, Western, Turkish, Arabic-script). Judging among these few, rather
# than every code page, keeps charset-normalizer right on a file of a few names.
CANDIDATES = ("gb18030", "big5", "cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic", "cp1252", "cp1254", "cp1256")
SAMPLE_BYTES = 64 << 10


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size_bytes: int
    encoding: str | None  # None: not one of the accepted encodings
    problem: str | None  # why it was not accepted
    mtime_ns: int = 0  # when the bytes hashed were last modified
    changed: bool = False  # the file's size or mtime changed while it was read


def _non_ascii_sample(path: Path) -> bytes:
    """Up to SAMPLE_BYTES of the file's lines that hold a non-ASCII byte."""
    sample = bytearray()
    with open(path, "rb") as handle:
        for line in handle:
            if not line.isascii():
                sample += line
                if len(sample) >= SAMPLE_BYTES:
                    break
    return bytes(sample)


def implausible_gb18030(path: Path) -> str | None:
    """The encoding a GB18030-decodable file far more plausibly is, or None when GB18030 fits."""
    from charset_normalizer import from_bytes

    sample = _non_ascii_sample(path)
    if not sample:
        return None
    matches = from_bytes(sample, cp_isolation=list(CANDIDATES))
    if not len(matches) or any(m.encoding == GB18030 for m in matches):
        return None
    return matches.best().encoding


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
        before = os.fstat(handle.fileno())
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
        after = os.fstat(handle.fileno())
    mtime = after.st_mtime_ns
    changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or after.st_size != size
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            utf8_ok, utf8_problem = False, f"byte {size + exc.start}: {exc.reason}"
    sha = digest.hexdigest()

    def facts(encoding: str | None, problem: str | None) -> FileFacts:
        return FileFacts(sha, size, encoding, problem, mtime, changed)

    if has_nul:
        return facts(None, "contains NUL bytes: not a text CSV")
    if utf8_ok:
        return facts(UTF8_BOM if head == BOM else UTF8, None)
    gb_ok, gb_problem = _valid_in(path, GB18030)
    if not gb_ok:
        return facts(None, f"not UTF-8 ({utf8_problem}) nor GB18030 ({gb_problem})")
    likely = implausible_gb18030(path)
    if likely:
        return facts(
            None,
            f"not UTF-8 ({utf8_problem}); the bytes decode as GB18030 but are far more plausibly {likely}:"
            " re-save the file as UTF-8",
        )
    return facts(GB18030, None)
