"""Bytes to text for the row readers: bad bytes named per line, other encodings refused per file.

The input contract is UTF-8. In a UTF-8 file, a line holding bytes that are not UTF-8, or a
NUL byte (which Python's csv module refuses with an exception and no line number), is
dead-lettered as ``bad_bytes`` with what and where; it is never decoded with replacement
characters, which would silently turn "café" into "caf�". A file that is in another encoding as a
whole is refused before anything is written, with the command that converts it, since
dead-lettering each of its rows would bury one cause under thousands of rejections: UTF-16 or
UTF-32 (a byte-order mark, or NUL bytes in the first line), and Latin-1 / Windows-1252 (lines
that are not UTF-8 but read as Windows-1252 text, in a sample with no UTF-8 beyond ASCII).

Python's codecs do the decoding. The sniffing is written here because those two cases can be
recognized exactly, where a statistical charset detector would guess.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from rtrec.data.tables import InputError

UTF8_BOM = b"\xef\xbb\xbf"
SAMPLE_BYTES = 1 << 20
"""How much of a file the whole-file encoding check reads."""

_BEYOND_ASCII = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")  # surrogate escapes excluded


def line_problem(raw: bytes) -> str:
    """'' when ``raw`` is clean UTF-8, else what is wrong and where, for a dead letter."""
    nul = raw.find(b"\x00")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if nul < 0 or err.start < nul:
            return f"byte 0x{raw[err.start]:02x} at byte {err.start + 1} of the line is not UTF-8"
    if nul >= 0:
        return f"NUL byte at byte {nul + 1} of the line"
    return ""


def decode_line(raw: bytes) -> str:
    """A line as text for the parsers: bytes that are not UTF-8 kept as escapes, NULs dropped.

    Only lines that ``line_problem`` passes are ever accepted, so this text reaches no output
    unless it is clean.
    """
    return raw.decode("utf-8", "surrogateescape").replace("\x00", "")


def shown(raw: bytes) -> str:
    """A line's bytes as readable text for a dead letter (bad bytes as ``\\xNN``)."""
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00").rstrip("\r\n")


def _reads_as_cp1252(raw: bytes) -> bool:
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text)


def _convert(path: str, encoding: str) -> str:
    """The command that writes a UTF-8 copy of ``path`` beside it."""
    p = Path(path)
    return f"iconv -f {encoding} -t UTF-8 '{path}' > '{p.with_name(f'{p.stem}.utf8{p.suffix}')}'"


def check_utf8(path: str, what: str) -> None:
    """Raise :class:`InputError` when a text file, as a whole, is not in UTF-8."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        raise InputError(
            f"{what} file {path} is UTF-16 or UTF-32 (it starts with a byte-order mark), but "
            f"rtrec reads UTF-8; nothing was written. Convert it first: {_convert(path, 'UTF-16')}"
        )
    if b"\x00" in sample.split(b"\n", 1)[0]:
        raise InputError(
            f"{what} file {path} has NUL bytes in its first line, as UTF-16 text does, but rtrec "
            f"reads UTF-8; nothing was written. Convert it first: {_convert(path, 'UTF-16LE')}"
        )
    lines = sample.split(b"\n")
    if len(sample) == SAMPLE_BYTES:
        lines = lines[:-1]  # the last line of the sample may be cut
    bad = [(n, line) for n, line in enumerate(lines, start=1) if line_problem(line)]
    if not bad or _BEYOND_ASCII.search(sample.decode("utf-8", "surrogateescape")):
        return  # clean, or UTF-8 with some bad lines, which are dead-lettered
    if all(_reads_as_cp1252(line) for _, line in bad):
        n, line = bad[0]
        raise InputError(
            f"{what} file {path} is not UTF-8: {len(bad)} of its first {len(lines)} lines hold "
            f"bytes that are not UTF-8 (line {n}: {shown(line)[:60]!r}, which reads "
            f"{line.decode('cp1252').rstrip()[:60]!r} in Windows-1252) and none holds UTF-8 "
            "text beyond ASCII, so it looks like Latin-1 / Windows-1252; nothing was written. "
            f"Convert it first: {_convert(path, 'WINDOWS-1252')}"
        )
