"""The files of an on-disk store: damage is refused, loads take turns, a swap survives a kill."""

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smartcity_kg.config import Config
from smartcity_kg.errors import StoreBusy, StoreUnreadable
from smartcity_kg.loading import load_into
from smartcity_kg.rdf.files import file_sources
from smartcity_kg.sparql.engine import QueryEngine
from smartcity_kg.store import files as store_files
from smartcity_kg.store.local import LOAD_RECORD, ReadOnlyStore, open_store
from smartcity_kg.web import create_app
from support.processes import run_bounded

OLD = '<http://example.org/store> <http://example.org/holds> "old" .\n'
NEW = '<http://example.org/store> <http://example.org/holds> "new" .\n'
HOLDS = "SELECT ?what { <http://example.org/store> <http://example.org/holds> ?what }"
DAMAGED = "the store cannot be read: its files are damaged"


@pytest.fixture(scope="module")
def packaged_dir(tmp_path_factory):
    """The packaged graph loaded as `load --into DIR` loads it; tests damage copies of it."""
    path = tmp_path_factory.mktemp("store-files") / "kg"
    load_into(str(path))
    return path


def copy_of(store: Path, where: Path) -> Path:
    shutil.copytree(store, where / "kg")
    return where / "kg"


def largest_table(store: Path) -> Path:
    return max(store.glob("*.sst"), key=lambda file: file.stat().st_size)


def overwrite_middle(file: Path) -> None:
    with file.open("r+b") as handle:
        handle.seek(file.stat().st_size // 2)
        handle.write(b"\xff" * 64)


def truncate_half(file: Path) -> None:
    os.truncate(file, file.stat().st_size // 2)


def smartcity_kg(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the CLI; past `timeout` (a server that started after all) stop it and all it forked."""
    return run_bounded([sys.executable, "-m", "smartcity_kg.cli", *args], timeout)


def holds(store: Path) -> list[str]:
    return [
        row["what"].value
        for row in open_store(str(store)).query(HOLDS, use_default_graph_as_union=True)
    ]


def nt_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- a damaged store -------------------------------------------------------------------------


def test_load_records_a_checksum_of_every_database_file(packaged_dir):
    record = ReadOnlyStore(packaged_dir).load_record()
    assert {name for name in record["checksums"] if name.endswith(".sst")} == {
        file.name for file in packaged_dir.glob("*.sst")
    }


@pytest.mark.parametrize("damage", [overwrite_middle, truncate_half])
def test_serve_refuses_a_damaged_store_in_one_line(damage, packaged_dir, tmp_path):
    store = copy_of(packaged_dir, tmp_path)
    damage(largest_table(store))
    answer = smartcity_kg("serve", "--store", str(store), "--port", "0")
    assert answer.returncode == 2, answer.stderr[-2000:]
    assert answer.stderr.count("\n") == 1
    assert answer.stderr.startswith(f"smartcity-kg: error: {store}: the store is damaged: ")
    assert "load --into" in answer.stderr


def test_an_app_over_a_damaged_store_is_refused_before_it_is_made(packaged_dir, tmp_path):
    store = copy_of(packaged_dir, tmp_path)
    overwrite_middle(largest_table(store))
    with pytest.raises(StoreUnreadable, match="does not match its checksum"):
        create_app(Config(store=str(store), workers=1))


def test_a_store_damaged_while_served_answers_503_and_never_hangs(packaged_dir, tmp_path):
    store = copy_of(packaged_dir, tmp_path)
    with QueryEngine(Config(store=str(store), workers=1, fast_lane=0)) as engine:
        client = create_app(engine.config, engine=engine).test_client()
        for table in store.glob("*.sst"):
            overwrite_middle(table)
        # first: its VoID statistics are aggregates, which pyoxigraph would evaluate forever
        everything = "/sparql?query=SELECT%20*%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"  # in a worker
        for path in ("/institution/kaia.ttl", "/healthz", "/downloads", "/coverage", everything):
            answer = answer_within(client, path, seconds=30)
            assert answer.status_code == 503, (path, answer.text[:500])
            assert answer.text.startswith(DAMAGED)
            assert str(store) not in answer.text  # the client learns what, not where


def answer_within(client, path: str, seconds: float):
    """GET `path`, failing the test (not hanging it) if no answer comes in time."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(client.get(path)), daemon=True)
    thread.start()
    thread.join(seconds)
    if not answers:
        pytest.fail(f"GET {path} did not answer within {seconds} s")
    return answers[0]


# --- loads take turns ------------------------------------------------------------------------


def test_a_load_while_another_holds_the_lock_exits_1_and_changes_nothing(tmp_path):
    store = tmp_path / "kg"
    load_into(str(store), file_sources([nt_file(tmp_path, "old.nt", OLD)]), validate=False)
    new = nt_file(tmp_path, "new.nt", NEW)
    with store_files.exclusive(store):
        answer = smartcity_kg("load", "--into", str(store), "--replace", "--no-validate", str(new))
    assert answer.returncode == 1
    assert answer.stderr == f"smartcity-kg: error: a load into {store} is running " \
        f"(it holds {store}.lock); wait for it to end, then try again\n"  # fmt: skip
    assert holds(store) == ["old"]


def test_of_two_loads_at_once_the_second_is_refused_and_the_first_completes(tmp_path):
    store, fifo = tmp_path / "kg", tmp_path / "slow.nt"
    os.mkfifo(fifo)  # the first load reads it, and so holds the lock until we write to it
    first = subprocess.Popen(
        [sys.executable, "-m", "smartcity_kg.cli", "load", "--into", str(store),
         "--no-validate", str(fifo)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: (tmp_path / "kg.loading").exists() or first.poll() is not None)
        other = nt_file(tmp_path, "other.nt", OLD)
        second = smartcity_kg("load", "--into", str(store), "--no-validate", str(other))
        assert second.returncode == 1
        assert f"a load into {store} is running" in second.stderr
        writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO if the first is not reading
        os.write(writer, NEW.encode())
        os.close(writer)
        assert first.communicate(timeout=60)[1] == "" and first.returncode == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert holds(store) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kg", "other.nt", "slow.nt"]


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the first load never started")
        time.sleep(0.02)


# --- a swap stopped half way -----------------------------------------------------------------


@pytest.fixture
def stopped_swap(tmp_path, monkeypatch):
    """A store holding "old", and a load of "new" stopped between the swap's two renames."""
    store = tmp_path / "kg"
    load_into(str(store), file_sources([nt_file(tmp_path, "old.nt", OLD)]), validate=False)
    renames = []

    def rename_once(source, target):
        if renames:
            raise Stopped("killed between the renames")
        renames.append((source, target))
        os.replace(source, target)

    monkeypatch.setattr(store_files.os, "rename", rename_once)
    new = file_sources([nt_file(tmp_path, "new.nt", NEW)])
    with pytest.raises(Stopped):
        load_into(str(store), new, replace=True, validate=False)
    monkeypatch.undo()
    assert not store.exists()  # what a kill there left: no store at DIR
    assert (tmp_path / "kg.old").is_dir() and (tmp_path / "kg.loading" / LOAD_RECORD).is_file()
    return store


class Stopped(BaseException):
    """Stands for the SIGKILL of a load."""


def test_serve_finishes_a_swap_a_killed_load_left_half_done(stopped_swap):
    assert holds(stopped_swap) == ["new"]  # open_store, as `serve --store DIR` opens it
    assert sorted(p.name for p in stopped_swap.parent.iterdir()) == ["kg", "new.nt", "old.nt"]


def test_the_next_load_finishes_the_swap_even_if_it_fails_itself(stopped_swap, tmp_path):
    bad = nt_file(tmp_path, "bad.nt", "<http://x/s> <http://x/p> .\n")
    answer = smartcity_kg("load", "--into", str(stopped_swap), "--replace", "--no-validate",
                          str(bad))  # fmt: skip
    assert answer.returncode == 2 and "bad.nt:1" in answer.stderr
    assert holds(stopped_swap) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nt", "kg", "new.nt", "old.nt"]


def test_serve_puts_the_old_store_back_when_the_new_one_is_incomplete(stopped_swap, tmp_path):
    (tmp_path / "kg.loading" / LOAD_RECORD).unlink()  # killed before the load had finished
    assert holds(stopped_swap) == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kg", "new.nt", "old.nt"]


def test_serve_waits_for_no_load_it_finds_running_in_its_swap(stopped_swap):
    with store_files.exclusive(stopped_swap), pytest.raises(StoreBusy, match="is running"):
        open_store(str(stopped_swap))
