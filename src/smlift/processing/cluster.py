"""Run the instances of a job in parallel and combine how they ended into how the job ended.

SageMaker starts every instance of a Processing job (`algo-1` ... `algo-N`) together; the job
is Completed only when every instance exits 0, and when one instance fails, the job fails and
the others are stopped. Locally, `run_cluster` does the same with the layers below it:

    one thread per instance, each running `runner.run_job` on its own staged root
      (staging.cluster_layout) with a JobControl of its own
    the job's control (StopProcessingJob, the execution stopping) stops every instance;
      MaxRuntimeInSeconds runs out on each instance at the same time
    the first instance to end Failed or Stopped stops the others (SIGTERM, grace, SIGKILL)
    -> one RunResult for the job: the first Failed instance's (in host order), else a
       Stopped one's, else algo-1's; `log_files` lists every instance's stream, `peaks`
       every instance's peak memory

A job of one instance is exactly `run_job`. What decides the job's outputs (publish all
instances' or none) stays with the service.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Callable

from .runner import JobControl, RunResult, run_job
from .staging import StagedJob

POLL_SECONDS = 0.1
INSTANCE_FAILED = "InstanceFailed"  # the stop reason of an instance stopped for a sibling


def run_cluster(spec: Any, image: Any, instances: tuple[StagedJob, ...], *, control: JobControl,
                on_stopping: Callable[[], None] = lambda: None, **options: Any) -> RunResult:
    """Run every instance to its end (see the module docstring); `options` go to run_job."""
    if len(instances) == 1:
        return run_job(spec, image, instances[0], control=control, on_stopping=on_stopping,
                       **options)
    controls = [JobControl() for _ in instances]
    results: list[RunResult | None] = [None] * len(instances)
    errors: list[BaseException] = []
    ended = threading.Event()

    def run_one(index: int) -> None:
        own = controls[index]
        try:
            results[index] = run_job(
                spec, image, instances[index], control=own, **options,
                on_stopping=lambda: own.stop_reason != INSTANCE_FAILED and on_stopping())
        except BaseException as exc:  # re-raised below, once the others are stopped
            errors.append(exc)
        finally:
            ended.set()

    threads = [threading.Thread(target=run_one, args=(index,), daemon=True,
                                name=f"smlift-{spec.name}-{staged.host}")
               for index, staged in enumerate(instances)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        ended.wait(POLL_SECONDS)
        ended.clear()
        _propagate_stop(control, controls, results, errors)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return combine_results([result for result in results if result is not None])


def _propagate_stop(control: JobControl, controls: list[JobControl],
                    results: list[RunResult | None], errors: list[BaseException]) -> None:
    """The job stopping stops every instance; an instance failing stops the others."""
    if control.stop_reason is not None:
        reason = control.stop_reason
    elif errors or any(r is not None and r.status != "Completed" for r in results):
        reason = INSTANCE_FAILED
    else:
        return
    for own in controls:
        if own.stop_reason is None:
            own.stop(reason)


def combine_results(results: list[RunResult]) -> RunResult:
    """The job's end from its instances' ends, in host order (see the module docstring)."""
    failed = [r for r in results if r.status == "Failed"]
    stopped = sorted((r for r in results if r.status == "Stopped"),
                     key=lambda r: r.failure_reason is None)
    first = (failed or stopped or results)[0]
    return replace(first, log_files=tuple(r.log_file for r in results),
                   peaks=tuple(peak for r in results for peak in r.peaks))
