"""Text for a terminal: display widths of Korean text (wide characters take two columns), tables.

Shared by the command line's query tables and the coverage report's text tables. A table given
a width (the terminal's) wraps its widest cells onto more lines so that every line fits.
"""

import unicodedata

GAP = "  "  # between the columns of an aligned table
MIN_COLUMN = 6  # display columns a column keeps however narrow the terminal


def width(value: str) -> int:
    """Return the number of terminal columns `value` takes (wide characters count twice)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


def wrap(value: str, limit: int) -> list[str]:
    """Split `value` into lines of at most `limit` display columns, at spaces where possible
    (a word longer than a line is cut, an IRI after a '/' or '#')."""
    lines, line = [], ""
    for word in value.split(" "):
        while width(word) > limit:  # a word longer than a line: cut it (one character at least)
            cut = next((n for n in range(len(word), 0, -1) if width(word[:n]) <= limit), 1)
            soft = max(word.rfind("/", 0, cut), word.rfind("#", 0, cut)) + 1
            cut = soft if soft > cut // 2 else cut  # an IRI: after a slash, if not too early
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if width(candidate) <= limit:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def pad(value: str, columns: int) -> str:
    """Return `value` padded with spaces to `columns` display columns."""
    return value + " " * (columns - width(value))


def fit(widths: list[int], room: int) -> list[int]:
    """Return column widths that share `room` columns: narrow columns keep their width, wide
    ones split what is left evenly; none goes below MIN_COLUMN (the table may then overflow)."""
    fitted = list(widths)
    left = room
    narrowest_first = sorted(range(len(widths)), key=widths.__getitem__)
    for done, column in enumerate(narrowest_first):
        share = max(left // (len(widths) - done), MIN_COLUMN)
        fitted[column] = min(widths[column], share)
        left -= fitted[column]
    return fitted


def aligned(rows: list[list[str]], limit: int | None = None) -> str:
    """Pad columns to the widest cell, counting wide (Korean) characters as two columns.

    With `limit` (a terminal's width), cells of a table wider than that wrap onto more lines
    so each line fits, and a blank line then parts the rows.
    """
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    if limit is not None and sum(widths) + len(GAP) * (len(widths) - 1) > limit:
        widths = fit(widths, limit - len(GAP) * (len(widths) - 1))
    blocks = [[wrap(cell, columns) if width(cell) > columns else [cell]
               for cell, columns in zip(row, widths, strict=True)] for row in rows]  # fmt: skip
    parted = any(len(lines) > 1 for block in blocks[1:] for lines in block)
    out = []
    for number, block in enumerate(blocks):
        if parted and number > 1:
            out.append("")
        for n in range(max(len(lines) for lines in block)):
            cells = [pad(lines[n] if n < len(lines) else "", columns)
                     for lines, columns in zip(block, widths, strict=True)]  # fmt: skip
            out.append(GAP.join(cells).rstrip())
        if number == 0:
            out.append(GAP.join("-" * columns for columns in widths))
    return "\n".join(out) + "\n"
