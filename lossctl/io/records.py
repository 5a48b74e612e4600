"""What makes CSV text usable, for every reader: UTF-8, a header, blank lines, the width of a row."""

from __future__ import annotations

from lossctl.errors import DataError, UsageError


def decode_text(data: bytes, name: str, encoding: str = "utf-8") -> str:
    """`data` as text (`encoding` is utf-8 or utf-8-sig); an error naming the file if it is not."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise DataError(f"{name}: is not UTF-8 text (binary data?)") from None


def header_names(name: str, cells: list[str] | None) -> list[str]:
    """The header's column names, stripped; an error for a blank header or a repeated name."""
    if not cells or not any(cell.strip() for cell in cells):
        raise DataError(f"{name}: has no header row")
    header = [cell.strip() for cell in cells]
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise DataError(f"{name}: column {column!r} appears twice in the header")
        seen.add(column)
    return header


def is_blank(cells: list[str]) -> bool:
    """A blank line, which readers skip: no cells, or one cell of whitespace."""
    return not cells or (len(cells) == 1 and not cells[0].strip())


def width_error(name: str, line: int, header: list[str], fields: int) -> DataError:
    """A row of `fields` cells where the header has another number: a short row is named by the
    first column it lacks."""
    width = len(header)
    if fields < width:
        return DataError(
            f"{name}: line {line}, column {header[fields]}: missing "
            f"(the row has {fields} of the header's {width} fields)"
        )
    return DataError(f"{name}: line {line}: has {fields} fields but the header has {width}")


DELIMITERS = (",", "\t", ";", "|")  # sniffed from the header line, in this order of preference
DELIMITER_NAMES = {"comma": ",", "tab": "\t", "\\t": "\t", "semicolon": ";", "pipe": "|", "space": " "}


def delimiter_option(text: str | None) -> str | None:
    """--delimiter's value as one character (None: sniff it); a UsageError for anything else."""
    if text is None:
        return None
    delimiter = DELIMITER_NAMES.get(text.lower(), text)
    if len(delimiter) != 1 or delimiter in "\"\r\n" or delimiter.isalnum():
        raise UsageError(
            f"--delimiter takes one character or a name (comma, tab, semicolon, pipe, space), "
            f"got {text!r}"
        )
    return delimiter


def sniff_delimiter(line: str) -> str:
    """The most frequent of `DELIMITERS` outside quotes in a header line (a comma on a tie or
    when none is there: a single column)."""
    outside = "".join(line.split('"')[0::2])
    counts = [outside.count(d) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))]
