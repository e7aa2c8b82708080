"""The figures of `game serve --workers N`, kept in prometheus-client's multiprocess files.

The workers share one port, so a scrape of `/metrics` reaches one of them at random. So
that any of them answers for all, each worker copies its own figures into files of its
own (named by its pid) in a directory the supervisor creates for the run
(`PROMETHEUS_MULTIPROC_DIR`), in the layout of prometheus-client's multiprocess mode, and
`/metrics` reads every worker's files with its `MultiProcessCollector`:

* counters and histograms are summed over every process that ever ran (a restarted
  worker's counts stay in its old pid's files), as prometheus-client does;
* levels (gauges) are summed over the live workers (`livesum`): the supervisor removes
  a worker's gauges when it exits (`mark_process_dead`);
* a few figures are kept per worker, with a `pid` label (`liveall`): the process
  collector's (`game_worker_cpu_seconds`, `game_worker_resident_memory_bytes`, ...) and
  `game_worker_websockets`.

The events are still counted in plain ints on each worker's loop (game.server.metrics):
copying them into the files once a second, and when the worker itself is scraped, costs
a few writes into a memory map for the values that changed, not a lock per event.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key

ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
_FILES: Final = {"counter": "counter", "histogram": "histogram", "gauge": "gauge_livesum"}
_PER_WORKER: Final = "gauge_liveall"
Row = tuple[str, Mapping[str, str], float]
"""A value as the files keep it: sample name, labels, value."""


class MetricFiles:
    """One process's files in the shared directory; `write` copies figures into them."""

    def __init__(self, directory: str, pid: int | None = None) -> None:
        self.directory = directory
        self.pid = os.getpid() if pid is None else pid
        self._files: dict[str, MmapedDict] = {}
        self._written: dict[tuple[str, str], float] = {}

    def write(self, families: Iterable[Metric], per_worker: Iterable[Metric] = ()) -> None:
        """Store every sample of `families` (summed across processes, gauges across the
        live ones) and of `per_worker` (gauges kept apart, by pid)."""
        for family in families:
            kind = _FILES.get(family.type)
            if kind is not None:
                for row in _rows(family):
                    self._put(kind, family, row)
        for family in per_worker:
            for sample in family.samples:
                self._put(_PER_WORKER, family, (sample.name, sample.labels, sample.value))

    def close(self) -> None:
        for file in self._files.values():
            file.close()  # type: ignore[no-untyped-call]
        self._files.clear()

    def _put(self, kind: str, family: Metric, row: Row) -> None:
        name, labels, value = row
        key = mmap_key(family.name, name, list(labels), list(labels.values()),
                       family.documentation)
        if self._written.get((kind, key)) == value:
            return
        file = self._files.get(kind)
        if file is None:
            path = os.path.join(self.directory, f"{kind}_{self.pid}.db")
            file = self._files[kind] = MmapedDict(path)  # type: ignore[no-untyped-call]
        file.write_value(key, value, 0.0)  # type: ignore[no-untyped-call]
        self._written[(kind, key)] = value


def _rows(family: Metric) -> Iterator[Row]:
    """The samples as the files keep them: histogram buckets each on its own (the
    collector adds them up again), no `_count` (the collector counts the buckets) and
    no `_created` (a sum of creation times means nothing)."""
    below: dict[tuple[tuple[str, str], ...], float] = {}
    for sample in family.samples:
        name, labels, value = sample.name, sample.labels, sample.value
        if name.endswith("_created") or (family.type == "histogram" and name.endswith("_count")):
            continue
        if family.type == "histogram" and name.endswith("_bucket"):
            series = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            value, below[series] = value - below.get(series, 0.0), value
        yield name, labels, value


def per_worker(families: Iterable[Metric]) -> Iterator[Metric]:
    """The process collector's figures (`process_*`) as `game_worker_*` gauges, which
    the files keep per pid: summed, a CPU or memory figure would hide which worker it is."""
    for family in families:
        if not family.name.startswith("process_"):
            continue
        name = "game_worker_" + family.name.removeprefix("process_")
        renamed = GaugeMetricFamily(name, family.documentation + " (this worker)")
        for sample in family.samples:
            renamed.add_sample(name, sample.labels, sample.value)
        yield renamed
