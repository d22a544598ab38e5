"""Dead gunicorn workers' Prometheus files folded into one archive (bounded metrics storage).

prometheus-client's multiprocess mode writes one file per metric type and process
(`counter_<pid>.db`, `histogram_<pid>.db`, `gauge_<mode>_<pid>.db`) and a scrape reads them all.
`mark_process_dead` removes only a dead process's `live*` gauges: its counters and histograms
must stay in the sums, so with recycled workers (max_requests) the directory, and every
scrape's work, would grow with the uptime. prometheus-client offers no compaction (its PR #518
stayed open over exactly the races handled here), so this module folds, with the library's own
file primitives (`MmapedDict`), and names nothing of the format itself.

Guarantees, and why
-------------------
- After `fold_dead(path, pids)` the directory holds the live processes' files plus one archive
  per type (`counter_archive.db`, `histogram_archive.db`, `gauge_<mode>_archive.db`): the file
  count does not grow with the number of recycles.
- Every figure stays exact: counters, summaries and histograms are summed key by key (a
  histogram file holds each bucket's own count, so that is bucket by bucket); `min`/`max`/`sum`
  gauges are reduced as the collector would, `mostrecent` keeps the newest value with its
  timestamp; `live*` gauges are dropped (a dead process is not live: `mark_process_dead`); `all`
  gauges are left alone (they are shown per pid, which folding would lose).
- Atomic, and never double-counted, even if the master dies half-way. One fold: (1) write each
  new archive (old archive + the dead files) to `<archive>.folding` and fsync; (2) write a
  journal naming those renames and the dead files, atomically (temp + rename); (3) rename each
  `.folding` over its archive; (4) delete the dead files; (5) delete the journal. Before (2)
  nothing visible changed and leftover `.folding` files are discarded; from (2) on the fold is
  committed and `recover` rolls it forward (rename what is left, delete the sources), so the
  dead files are counted either in their own file or in the archive, never both, never neither.
- Scrapes see no half-fold: a fold holds an exclusive `flock` on `.fold.lock` throughout and
  `scrape_files` a shared one while the scrape lists and reads; a scrape that finds a journal
  (a master died after committing) rolls the fold forward first.
"""
from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import mark_process_dead

ARCHIVE = "archive"  # the "pid" part of an archive's file name
LOCK_FILE = ".fold.lock"
JOURNAL_FILE = ".fold-journal.json"
_FOLDING = ".folding"

# Dead pids whose fold failed (e.g. a full disk): tried again on the next fold. Master memory.
_pending: set[int] = set()


@contextmanager
def locked(path: str, *, shared: bool = False) -> Iterator[None]:
    """An advisory lock on the directory: exclusive for a fold, shared for a scrape."""
    fd = os.open(os.path.join(path, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _parse(name: str) -> tuple[str, str | None, str] | None:
    """(type, gauge mode, pid) of a prometheus-client file name, None for anything else."""
    if not name.endswith(".db"):
        return None
    parts = name[:-3].split("_")
    if parts[0] == "gauge" and len(parts) == 3:
        return "gauge", parts[1], parts[2]
    if parts[0] != "gauge" and len(parts) == 2:
        return parts[0], None, parts[1]
    return None


def _archive_name(typ: str, mode: str | None) -> str:
    return f"gauge_{mode}_{ARCHIVE}.db" if typ == "gauge" else f"{typ}_{ARCHIVE}.db"


def _reduce(typ: str, mode: str | None, files: list[str]) -> dict[str, tuple[float, float]]:
    """key -> (value, timestamp) over `files`, combined as the collector combines processes."""
    out: dict[str, tuple[float, float]] = {}
    for f in files:
        for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(f):
            if key not in out:
                out[key] = (value, timestamp)
                continue
            old_value, old_timestamp = out[key]
            if typ != "gauge" or mode == "sum":
                out[key] = (old_value + value, 0.0)
            elif mode == "min":
                out[key] = (min(old_value, value), 0.0)
            elif mode == "max":
                out[key] = (max(old_value, value), 0.0)
            elif mode == "mostrecent" and timestamp > old_timestamp:
                out[key] = (value, timestamp)
    return out


def _write(filename: str, values: dict[str, tuple[float, float]]) -> None:
    if os.path.exists(filename):
        os.remove(filename)
    store = MmapedDict(filename)
    try:
        for key, (value, timestamp) in values.items():
            store.write_value(key, value, timestamp)
    finally:
        store.close()
    fd = os.open(filename, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(path: str, journal: dict) -> None:
    temp = os.path.join(path, JOURNAL_FILE + _FOLDING)
    with open(temp, "w") as out:
        json.dump(journal, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, os.path.join(path, JOURNAL_FILE))


def recover(path: str) -> None:
    """Finish or undo a fold a dead master left half-way (see the module docstring).
    Idempotent; the caller holds the exclusive lock."""
    journal_path = os.path.join(path, JOURNAL_FILE)
    if os.path.exists(journal_path):
        with open(journal_path) as journal_file:
            journal = json.load(journal_file)
        for temp, archive in journal["renames"]:
            if os.path.exists(os.path.join(path, temp)):
                os.replace(os.path.join(path, temp), os.path.join(path, archive))
        for source in journal["sources"]:
            if os.path.exists(os.path.join(path, source)):
                os.remove(os.path.join(path, source))
        os.remove(journal_path)
    for name in os.listdir(path):  # written before a commit that never came
        if name.endswith(_FOLDING):
            os.remove(os.path.join(path, name))


def fold_dead(path: str, pids: Iterable[int]) -> None:
    """Fold the files of the dead processes `pids` into the archive (gunicorn child_exit).

    The caller guarantees the processes are dead (no one writes their files any more)."""
    _pending.update(pids)
    dead = {str(pid) for pid in _pending}
    with locked(path):
        recover(path)
        for pid in dead:
            mark_process_dead(int(pid), path)  # live gauges go
        groups: dict[tuple[str, str | None], list[str]] = {}
        for name in sorted(os.listdir(path)):
            parsed = _parse(name)
            if parsed and parsed[2] in dead and parsed[1] != "all":
                groups.setdefault(parsed[:2], []).append(name)
        renames, sources = [], []
        for (typ, mode), names in groups.items():
            archive = _archive_name(typ, mode)
            inputs = [os.path.join(path, n) for n in names]
            if os.path.exists(os.path.join(path, archive)):
                inputs.insert(0, os.path.join(path, archive))
            _write(os.path.join(path, archive + _FOLDING), _reduce(typ, mode, inputs))
            renames.append((archive + _FOLDING, archive))
            sources.extend(names)
        if renames:
            _commit(path, {"renames": renames, "sources": sources})  # from here on, committed
            recover(path)
    _pending.difference_update(int(pid) for pid in dead)


@contextmanager
def scrape_files(path: str) -> Iterator[list[str]]:
    """Yield the `*.db` files to read for a scrape, under the shared lock (read them inside)."""
    if os.path.exists(os.path.join(path, JOURNAL_FILE)):  # a master died after committing
        with locked(path):
            recover(path)
    with locked(path, shared=True):
        yield [os.path.join(path, n) for n in os.listdir(path) if n.endswith(".db")]
