"""An instance's peak memory, sampled while it runs: one thread per instance that reads a value
every `interval` seconds and keeps the largest (`peak`, None until one was read).

    TreeMemorySampler(pid)       smlift's runner: the largest VmHWM of the process tree
    container.MemorySampler(name) Docker: the container cgroup's resident memory

`source` says how the value was measured (the runner's log line and docs/local.md)."""

from __future__ import annotations

import os
import threading
from pathlib import Path


class PeakSampler(threading.Thread):
    """The sampling loop: `sample()` each interval until `stop()`; a subclass may `give_up()`."""

    source = "unknown"

    def __init__(self, label: str, interval: float):
        super().__init__(daemon=True, name=f"smlift-memory-{label}")
        self.interval, self.peak = interval, None
        self._stopped = threading.Event()

    def sample(self) -> int | None:
        raise NotImplementedError

    def give_up(self) -> None:
        self._stopped.set()

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join()

    def run(self) -> None:
        while not self._stopped.is_set():
            value = self.sample()
            if value is not None:
                self.peak = max(self.peak or 0, value)
            if self._stopped.wait(self.interval):
                return


class TreeMemorySampler(PeakSampler):
    """The peak memory of a job's processes on smlift's runner: every `interval` seconds, the
    high-water mark of resident memory (VmHWM in /proc/PID/status) of the launched process and
    each of its descendants; the largest seen is `peak`. VmHWM is each process's own peak since
    it exec'd, so a spike between two samples is still seen, unless it comes in the last
    interval before the process ends. (wait4's ru_maxrss cannot be used: a child forked from
    smlift starts with smlift's own high-water mark, which exec carries over.)"""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(str(pid), interval)
        self.pid = pid
        self.source = f"largest VmHWM of the job's processes, sampled every {interval:g}s"

    def sample(self) -> int | None:
        highs = [h for h in map(_high_water, _process_tree(self.pid)) if h is not None]
        return max(highs, default=None)


def _process_tree(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _high_water(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
