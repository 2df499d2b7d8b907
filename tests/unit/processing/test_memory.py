"""Peak memory of a job's instance: the largest VmHWM in its process tree (smlift's runner),
and a container cgroup's resident memory (Docker)."""

import subprocess
import sys
import time

from smlift.processing.container import resident_bytes
from smlift.processing.memory import TreeMemorySampler

GRANDCHILD = ("import time; held = b'x' * (120 << 20); time.sleep(1.0)")


def test_the_tree_sampler_sees_a_grandchilds_peak_and_not_smlifts_own(tmp_path):
    # sh -> python: the allocating process is a grandchild of what was launched
    process = subprocess.Popen(["/bin/sh", "-c", f'"{sys.executable}" -c "{GRANDCHILD}"; true'])
    sampler = TreeMemorySampler(process.pid, interval=0.05)
    sampler.start()
    process.wait()
    sampler.stop()
    assert 120 << 20 <= sampler.peak < 300 << 20


def test_the_tree_sampler_of_a_finished_process_has_no_value():
    process = subprocess.Popen(["/bin/true"])
    process.wait()
    time.sleep(0.1)
    sampler = TreeMemorySampler(process.pid, interval=0.05)
    sampler.start()
    sampler.stop()
    assert sampler.peak is None


def test_resident_memory_is_read_from_cgroup_v1_and_v2_memory_stat(tmp_path):
    v1 = tmp_path / "v1.stat"
    v1.write_text("cache 1000\nrss 5\ntotal_cache 9000\ntotal_rss 123456\n")
    v2 = tmp_path / "v2.stat"
    v2.write_text("anon 654321\nfile 99999999\n")
    assert resident_bytes(v1) == 123456  # the hierarchy's rss, page cache left out
    assert resident_bytes(v2) == 654321
    assert resident_bytes(tmp_path / "gone.stat") is None  # the container's cgroup went away
