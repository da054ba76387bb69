"""What a fleet run proves afterwards: every recorded event stored once, per site chains intact,
and the figures (latency percentiles, revocation spread, process CPU and memory).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import psutil
from sqlalchemy import func, select

from doorward.store.db import Database
from doorward.store.eventlog_models import EventLogEntry

__all__ = ["DeliveryCount", "ProcessSampler", "count_delivery", "percentile"]


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), math.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]


@dataclass(frozen=True)
class DeliveryCount:
    generated: int
    stored: int
    lost: int
    duplicates: int
    #: Not yet delivered when the run ended, but still durable in an edge's outbox.
    undelivered: int


def count_delivery(db: Database, generated: Mapping[str, int], undelivered: int) -> DeliveryCount:
    """Compare what each gate recorded with what the log holds for it.

    Each edge's outbox numbers its events 1..n (``edge_seq``), so per gate the log must hold
    exactly the seqs 1..n: a missing seq is a lost event, a repeated one a duplicate.
    """
    e = EventLogEntry
    query = (
        select(
            e.gate_id,
            func.count(),
            func.count(func.distinct(e.edge_seq)),
            func.count(func.distinct(e.event_id)),
            func.max(e.edge_seq),
        )
        .where(e.gate_id.in_(list(generated)))
        .group_by(e.gate_id)
    )
    stored = lost = duplicates = 0
    with db.read() as session:
        rows = {gate: (n, seqs, ids, top) for gate, n, seqs, ids, top in session.execute(query)}
    for gate, made in generated.items():
        n, seqs, ids, top = rows.get(gate, (0, 0, 0, 0))
        stored += n
        duplicates += (n - seqs) + (n - ids)
        if top is not None and top > made:
            duplicates += top - made  # seqs the edge never recorded
        lost += max(0, made - seqs)
    return DeliveryCount(sum(generated.values()), stored, max(0, lost - undelivered),
                         duplicates, undelivered)


@dataclass
class _Usage:
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    rss_peak: int = 0


@dataclass
class ProcessSampler:
    """CPU seconds between :meth:`mark_start` and :meth:`mark_end`, and peak RSS, per group
    of processes (hub workers, fleet processes, the broker, the database)."""

    groups: dict[str, list[psutil.Process]] = field(default_factory=dict)
    _usage: dict[int, _Usage] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, group: str, pids: Iterable[int]) -> None:
        for pid in pids:
            try:
                self.groups.setdefault(group, []).append(psutil.Process(pid))
                self._usage[pid] = _Usage()
            except psutil.NoSuchProcess:
                continue

    def add_by_name(self, group: str, name: str) -> None:
        self.add(group, [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name])

    def _each(self) -> Iterable[tuple[psutil.Process, _Usage]]:
        for procs in self.groups.values():
            for proc in procs:
                yield proc, self._usage[proc.pid]

    def _cpu(self, proc: psutil.Process) -> float | None:
        try:
            times = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return float(times.user + times.system)

    def mark_start(self) -> None:
        for proc, usage in self._each():
            usage.cpu_start = usage.cpu_end = self._cpu(proc) or 0.0
        self._thread = threading.Thread(target=self._sample, name="soak-sampler", daemon=True)
        self._thread.start()

    def mark_end(self) -> None:
        for proc, usage in self._each():
            cpu = self._cpu(proc)
            if cpu is not None:
                usage.cpu_end = cpu
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            for proc, usage in self._each():
                try:
                    usage.rss_peak = max(usage.rss_peak, proc.memory_info().rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue

    def summary(self, seconds: float) -> dict[str, dict[str, float]]:
        """Per group: processes, CPU seconds, mean cores used, peak RSS (MiB, summed)."""
        out: dict[str, dict[str, float]] = {}
        for group, procs in self.groups.items():
            usages = [self._usage[p.pid] for p in procs]
            cpu = sum(u.cpu_end - u.cpu_start for u in usages)
            out[group] = {
                "processes": len(procs),
                "cpu_seconds": round(cpu, 2),
                "cores": round(cpu / seconds, 3) if seconds > 0 else 0.0,
                "rss_peak_mib": round(sum(u.rss_peak for u in usages) / 2**20, 1),
                "rss_peak_per_process_mib": round(
                    max((u.rss_peak for u in usages), default=0) / 2**20, 1
                ),
            }
        return out
