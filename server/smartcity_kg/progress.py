"""Progress of long work (loading, uploading, validating) as a bar on a terminal, else nothing.

`ProgressBar(total, label, stream)` draws on `stream` only when it is a terminal, at most ten
times a second, and ends its line on `close()`; redirected to a file or a pipe it writes
nothing, so logs and CI output stay clean. `CountingReader` wraps a binary file and reports
each chunk it reads, which is how a bar follows a parser or an upload that reads a file itself.
"""

import io
from collections.abc import Callable
from time import monotonic

WIDTH = 30
INTERVAL = 0.1  # seconds between redraws


class ProgressBar:
    """A one-line bar for `total` bytes; a no-op unless `stream` is a terminal."""

    def __init__(self, total: int, label: str, stream):
        self.total = max(total, 1)
        self.label = label
        self.done = 0
        self._stream = stream
        self._active = bool(getattr(stream, "isatty", lambda: False)())
        self._drawn = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def advance(self, count: int) -> None:
        """Record `count` more bytes; redraw if enough time has passed."""
        self.done += count
        if self._active and monotonic() - self._drawn >= INTERVAL:
            self._draw()

    def close(self) -> None:
        if self._active:
            self.done = min(self.done, self.total)
            self._draw()
            self._stream.write("\n")
            self._stream.flush()
            self._active = False

    def _draw(self) -> None:
        share = min(self.done / self.total, 1.0)
        filled = int(share * WIDTH)
        self._stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%} "
            f"{self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB"
        )
        self._stream.flush()
        self._drawn = monotonic()


class CountingReader(io.RawIOBase):
    """A raw binary reader that reports the size of each chunk read to `progress`."""

    def __init__(self, raw, progress: Callable[[int], None] | None):
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if self._progress and count:
            self._progress(count)
        return count
