"""The directory of an on-disk store as files: its lock, its swap into place, its checksums.

`load --into DIR` builds a store in DIR.loading and swaps it into DIR while it holds a lock on
DIR.lock, so two loads never share the staging directory. The swap is two renames (DIR to
DIR.old, DIR.loading to DIR); a load or a server that finds one half done (a load killed
between them) finishes it, or else undoes it. The checksums of the files are recorded when a
load ends and checked when a server opens the store: a damaged store is refused at start,
rather than failing at run time, or never answering (pyoxigraph's aggregates spin forever over
a damaged block). No pyoxigraph here.
"""

import fcntl
import hashlib
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from smartcity_kg.errors import InputError, StoreBusy, StoreUnreadable

log = logging.getLogger(__name__)

# Written beside the database's own files by `load --into DIR`, after them: what was loaded,
# when, whether it was validated against which shapes, and the checksums of the files.
LOAD_RECORD = "smartcity-kg-load.json"
STAGING, PREVIOUS, LOCK = ".loading", ".old", ".lock"  # suffixes of DIR's siblings
UNCHECKED = ("LOCK", "LOG", LOAD_RECORD)  # names (LOG: prefix) RocksDB may rewrite on open


def sibling(path: Path, suffix: str) -> Path:
    """Return DIR.loading, DIR.old or DIR.lock beside the store directory `path`."""
    return path.with_name(path.name + suffix)


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock on the store `path` (DIR.lock); StoreBusy at once if a load holds it.

    flock is released when the process ends, however it ends, so a killed load holds nothing.
    The holder removes the file before it lets go; one who locked a file so removed (its
    inode is no longer DIR.lock's) lost the race, as if the lock had been held.
    """
    lock = sibling(path, LOCK)
    busy = f"a load into {path} is running (it holds {lock}); wait for it to end, then try again"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock.open("a")
    except OSError as error:
        raise InputError(f"{lock}: cannot create the lock file: {error.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            ours = os.path.samestat(os.fstat(handle.fileno()), lock.stat())
        except (BlockingIOError, FileNotFoundError):  # held; or removed by its holder
            ours = False
        if not ours:
            raise StoreBusy(busy)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)  # still held: nobody can have locked it meanwhile


def is_complete(staging: Path) -> bool:
    """Return True if a load finished building `staging`: its record is written last."""
    return (staging / LOAD_RECORD).is_file()


def swap_in(path: Path, staging: Path) -> None:
    """Move the complete store `staging` to `path`; the old store goes only once it is there."""
    old = sibling(path, PREVIOUS)
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        os.rename(path, old)
    os.rename(staging, path)  # a kill just before this leaves no DIR: see `recover`
    shutil.rmtree(old, ignore_errors=True)


def recover(path: Path) -> None:
    """Finish or undo a swap that a killed load left half done; drop what it left behind.

    Call with the lock held. With no DIR, a complete DIR.loading is moved in (the load had
    finished), else DIR.old is moved back. Then DIR.old and any DIR.loading are removed.
    """
    staging, old = sibling(path, STAGING), sibling(path, PREVIOUS)
    if not path.exists():
        if is_complete(staging):
            os.rename(staging, path)
            log.warning("%s: finished the swap of a load that was stopped in it", path)
        elif old.is_dir():
            os.rename(old, path)
            log.warning("%s: put back the store a stopped load had moved aside", path)
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def recover_for_reading(path: Path) -> None:
    """Recover `path` for a server if a stopped load left no store there; StoreBusy if one runs."""
    if not path.exists() and (sibling(path, STAGING).exists() or sibling(path, PREVIOUS).exists()):
        with exclusive(path):
            recover(path)


def checksums(path: Path) -> dict[str, list]:
    """Return {file name: [size, SHA-256]} for the store's files that nothing rewrites."""
    return {
        file.name: [file.stat().st_size, _sha256(file)]
        for file in sorted(path.iterdir())
        if file.is_file() and not file.name.startswith(UNCHECKED)
    }


def check_files(path: Path, recorded: dict[str, list]) -> None:
    """Raise StoreUnreadable naming the first recorded file missing, resized or changed."""
    for name, (size, digest) in recorded.items():
        file = path / name
        try:
            found = file.stat().st_size
            if found != size:
                problem = f"is {found} bytes, not {size}"
            elif _sha256(file) != digest:
                problem = "does not match its checksum"
            else:
                continue
        except OSError as error:
            problem = f"cannot be read ({error.strerror})"
        raise StoreUnreadable(
            f"{path}: the store is damaged: {name} {problem} as 'load --into' wrote it; load it "
            f"again with 'smartcity-kg load --into {path} --replace FILE...'"
        )


def file_states(path: Path, names: Iterable[str]) -> list[tuple | None]:
    """Return size, modification time and inode of each file: a write changes one of them."""
    found = []
    for name in names:
        try:
            stat = (path / name).stat()
            found.append((stat.st_size, stat.st_mtime_ns, stat.st_ino))
        except OSError:
            found.append(None)
    return found


def _sha256(file: Path) -> str:
    with file.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
