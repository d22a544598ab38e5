"""Dead workers' Prometheus files folded into one archive: exact figures, a bounded directory,
and no sample lost or counted twice when the master dies half-way (apps/core/metrics_archive.py)."""
from __future__ import annotations

import glob
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

import devprocs as services
from apps.core import metrics_archive
from tests.ops.test_metrics import TOKEN, parse

BUCKETS = ("0.1", "1.0", "+Inf")


def write(path: Path, filename: str, samples: list[tuple], timestamp: float = 0.0) -> None:
    """A prometheus-client file: samples (metric, sample name, labels dict, value)."""
    store = MmapedDict(str(path / filename))
    for metric, name, labels, value in samples:
        store.write_value(mmap_key(metric, name, list(labels), list(labels.values()), "help"), value, timestamp)
    store.close()


def worker_files(path: Path, pid: int, requests_: float, slow: float, circuit: float, pending: float, at: float) -> None:
    write(path, f"counter_{pid}.db", [
        ("http_requests", "http_requests_total", {"view": "me"}, requests_),
        ("auth_refresh", "auth_refresh_total", {"outcome": "rotated"}, 0.0),
    ])
    write(path, f"histogram_{pid}.db", [
        ("latency", "latency_sum", {"view": "me"}, requests_ * 0.05 + slow * 2),
        *[("latency", "latency_bucket", {"view": "me", "le": le}, v)
          for le, v in zip(BUCKETS, (requests_, 0.0, slow), strict=True)],
    ])
    write(path, f"gauge_livemax_{pid}.db", [("redis_circuit_open", "redis_circuit_open", {}, circuit)])
    write(path, f"gauge_mostrecent_{pid}.db", [("mail_queue_pending", "mail_queue_pending", {}, pending)], timestamp=at)


def scraped(path: Path) -> dict[tuple, float]:
    with metrics_archive.scrape_files(str(path)) as files:
        metrics = list(MultiProcessCollector.merge(files, accumulate=True))
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for m in metrics for s in m.samples}


@pytest.fixture
def multiproc(tmp_path) -> Path:
    worker_files(tmp_path, 101, requests_=3, slow=1, circuit=1, pending=7, at=1000.0)  # dead
    worker_files(tmp_path, 102, requests_=5, slow=2, circuit=1, pending=9, at=3000.0)  # dead, newest gauge
    worker_files(tmp_path, 103, requests_=11, slow=0, circuit=0, pending=8, at=2000.0)  # live
    return tmp_path


def prom_files(path: Path) -> set[str]:
    return {p.name for p in path.iterdir() if p.name.endswith(".db")}


def test_folding_dead_workers_keeps_every_figure_and_leaves_live_files_plus_one_archive(multiproc):
    metrics_archive.fold_dead(str(multiproc), [101])
    metrics_archive.fold_dead(str(multiproc), [102])

    assert prom_files(multiproc) == {
        "counter_103.db", "histogram_103.db", "gauge_livemax_103.db", "gauge_mostrecent_103.db",
        "counter_archive.db", "histogram_archive.db", "gauge_mostrecent_archive.db",
    }
    figures = scraped(multiproc)
    assert figures[("http_requests_total", (("view", "me"),))] == 3 + 5 + 11  # counters summed
    assert figures[("auth_refresh_total", (("outcome", "rotated"),))] == 0  # zeros kept as series
    # histograms summed bucket by bucket (the scrape shows them cumulative)
    assert figures[("latency_bucket", (("le", "0.1"), ("view", "me")))] == 19
    assert figures[("latency_bucket", (("le", "1.0"), ("view", "me")))] == 19
    assert figures[("latency_bucket", (("le", "+Inf"), ("view", "me")))] == 22
    assert figures[("latency_count", (("view", "me"),))] == 22
    assert figures[("latency_sum", (("view", "me"),))] == pytest.approx(19 * 0.05 + 3 * 2)
    assert figures[("redis_circuit_open", ())] == 0  # the dead workers' live gauges are gone
    assert figures[("mail_queue_pending", ())] == 9  # the most recent value, from a dead worker


def test_the_scrape_is_the_same_before_and_after_a_fold(multiproc):
    before = scraped(multiproc)

    metrics_archive.fold_dead(str(multiproc), [101, 102])

    after = scraped(multiproc)
    before.pop(("redis_circuit_open", ()))  # live gauges: 1 before (dead ones open), 0 after
    assert {k: v for k, v in after.items() if k != ("redis_circuit_open", ())} == pytest.approx(before)


class MasterDied(Exception):
    pass


def test_a_master_dying_between_rename_and_delete_neither_loses_nor_double_counts(multiproc, monkeypatch):
    expected = scraped(multiproc)
    expected.pop(("redis_circuit_open", ()))
    commit = metrics_archive._commit

    def commit_rename_then_die(path, journal):
        commit(path, journal)
        for temp, archive in journal["renames"]:
            os.replace(os.path.join(path, temp), os.path.join(path, archive))
        raise MasterDied  # the dead workers' files are still there, and in the archive

    monkeypatch.setattr(metrics_archive, "_commit", commit_rename_then_die)
    with pytest.raises(MasterDied):
        metrics_archive.fold_dead(str(multiproc), [101, 102])
    monkeypatch.undo()
    metrics_archive._pending.clear()

    # A scrape in between rolls the fold forward rather than counting twice ...
    assert {k: v for k, v in scraped(multiproc).items() if k != ("redis_circuit_open", ())} == pytest.approx(expected)
    # ... and a fold run again (the next worker exit) changes nothing.
    metrics_archive.fold_dead(str(multiproc), [101, 102])
    assert {k: v for k, v in scraped(multiproc).items() if k != ("redis_circuit_open", ())} == pytest.approx(expected)
    assert not (multiproc / metrics_archive.JOURNAL_FILE).exists()
    assert not list(multiproc.glob("counter_10[12].db"))


def test_a_master_dying_before_the_commit_changes_nothing_and_the_next_fold_redoes_it(multiproc, monkeypatch):
    expected = scraped(multiproc)

    def die(path, journal):
        raise MasterDied  # the .folding files are written, not committed

    monkeypatch.setattr(metrics_archive, "_commit", die)
    with pytest.raises(MasterDied):
        metrics_archive.fold_dead(str(multiproc), [101])
    monkeypatch.undo()
    metrics_archive._pending.clear()

    assert list(multiproc.glob("*.folding"))
    assert scraped(multiproc)[("http_requests_total", (("view", "me"),))] == expected[("http_requests_total", (("view", "me"),))]
    metrics_archive.fold_dead(str(multiproc), [101])
    assert not list(multiproc.glob("*.folding"))
    assert scraped(multiproc)[("http_requests_total", (("view", "me"),))] == 19
    assert "counter_101.db" not in prom_files(multiproc)


# --- under gunicorn ---------------------------------------------------------------------------
def test_hundreds_of_recycled_workers_keep_exact_sums_and_a_bounded_directory(tmp_path):
    multiproc = tmp_path / "prom"
    sent, started = 0, time.monotonic()
    deadline = started + 90
    with services.live_server(workers=2, METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(multiproc),
                              GUNICORN_MAX_REQUESTS="5") as server:
        # 8 clients at once, up to 1,500 requests (a worker exits every 5: up to ~300 recycles),
        # within 90 s (a shared, loaded machine may get fewer; at least 100 recycles are required).
        with ThreadPoolExecutor(max_workers=8) as pool:
            while sent < 1500 and time.monotonic() < deadline:
                statuses = list(pool.map(lambda _: requests.get(f"{server.url}/health/live", timeout=10).status_code, range(40)))
                assert statuses == [200] * 40
                sent += 40

        def leftover_pids() -> set[str]:
            return {n.rsplit("_", 1)[1][:-3] for n in os.listdir(multiproc) if n.endswith(".db")} - {"archive"}

        # the last exits are folded as they happen; wait (bounded) for the master to reap them
        services.wait_until(lambda: len(leftover_pids()) <= 2, timeout=15)
        response = requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        files = sorted(n for n in os.listdir(multiproc) if n.endswith(".db"))
        live = leftover_pids()

    assert sent >= 500, f"only {sent} requests in 90 s"
    assert response.status_code == 200
    assert parse(response.text, "http_requests_total", view="health-live", method="GET", status="200") == sent
    assert parse(response.text, "http_request_duration_seconds_count", view="health-live", method="GET") == sent
    # only the live workers' files (at most 2 workers, a few types each) and one archive per type
    assert len(live) <= 2
    assert all(n.endswith("_archive.db") or n.rsplit("_", 1)[1][:-3] in live for n in files)
    assert len(files) <= 2 * 4 + 3, files  # counter, histogram, 2 gauges; 3 archives


def made_by(directory: str, pid: int) -> bool:
    """The directory's marker names this master (other gunicorns may run on the machine)."""
    try:
        return Path(directory, ".created-by-gunicorn-master").read_text() == str(pid)
    except OSError:
        return False


def test_the_directory_the_master_made_for_itself_is_removed_at_exit():
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "authsvc-prometheus-*")))
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    try:
        with services.live_server(workers=1, METRICS_TOKEN=TOKEN) as server:
            requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            mine = [d for d in set(glob.glob(os.path.join(tempfile.gettempdir(), "authsvc-prometheus-*"))) - before
                    if made_by(d, server.proc.pid)]
            assert len(mine) == 1 and glob.glob(os.path.join(mine[0], "*.db"))
    finally:
        os.environ.clear()
        os.environ.update(env)

    assert not os.path.exists(mine[0])
