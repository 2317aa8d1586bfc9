"""Text for a terminal: display widths of Korean text (wide characters take two columns), tables.

Shared by the command line's query tables and the coverage report's text tables.
"""

import unicodedata


def width(value: str) -> int:
    """Return the number of terminal columns `value` takes (wide characters count twice)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


def wrap(value: str, limit: int) -> list[str]:
    """Split `value` into lines of at most `limit` display columns, at spaces where possible."""
    lines, line = [], ""
    for word in value.split(" "):
        while width(word) > limit:  # a word longer than a line: cut it
            cut = next(n for n in range(len(word), 0, -1) if width(word[:n]) <= limit)
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


def aligned(rows: list[list[str]]) -> str:
    """Pad columns to the widest cell, counting wide (Korean) characters as two columns."""
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [pad(cell, columns) for cell, columns in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * columns for columns in widths))
    return "\n".join(lines) + "\n"
