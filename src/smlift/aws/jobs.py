"""SageMaker Processing jobs on AWS, answered as `LocalProcessing` answers for local ones.

`AwsJobs(client)` has the same methods the CLI uses on the local side: describe_processing_job,
list_processing_jobs, stop_processing_job (boto3's shapes, through the one door `AwsClient`),
and log_lines / follow_log, which read CloudWatch Logs: group `/aws/sagemaker/ProcessingJobs`,
one stream per instance named `JOB/algo-N-EPOCH`. A job of several instances has each line
prefixed with its host (`[algo-2] ...`), stream by stream, as the local logs are.
"""

from __future__ import annotations

from typing import Any, Iterator

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


class AwsJobs:
    """Processing jobs of the account and region of `client` (an `AwsClient`)."""

    def __init__(self, client: Any, *, poll_seconds: float = 5.0):
        self.client = client
        self.poll_seconds = poll_seconds

    def describe_processing_job(self, ProcessingJobName: str) -> dict:  # noqa: N803 (boto3)
        return self.client.describe_processing_job(ProcessingJobName=ProcessingJobName)

    def list_processing_jobs(self, **kw: Any) -> dict:
        return self.client.list_processing_jobs(**{k: v for k, v in kw.items() if v is not None})

    def stop_processing_job(self, ProcessingJobName: str) -> dict:  # noqa: N803
        return self.client.stop_processing_job(ProcessingJobName=ProcessingJobName)

    def _streams(self, name: str) -> list[str]:
        streams = self.client.describe_log_streams(logGroupName=LOG_GROUP,
                                                   logStreamNamePrefix=f"{name}/")
        return sorted((s["logStreamName"] for s in streams), key=_host_number)

    def _page(self, stream: str, token: str | None) -> tuple[list[str], str | None]:
        options = {"nextToken": token} if token else {}
        page = self.client.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                          startFromHead=True, **options)
        return [e["message"] for e in page.get("events", [])], page.get("nextForwardToken")

    def _read(self, name: str, tokens: dict[str, str | None]) -> Iterator[str]:
        """The lines written since `tokens` (updated), every stream of the job."""
        streams = self._streams(name)
        for stream in streams:
            while True:  # CloudWatch answers pages until one is empty (then the same token)
                lines, tokens[stream] = self._page(stream, tokens.get(stream))
                yield from (_tagged(stream, line, len(streams)) for line in lines)
                if not lines:
                    break

    def log_lines(self, name: str) -> list[str]:
        """Every line the job's streams hold now ([] before the job has started)."""
        self.describe_processing_job(name)  # an unknown job says so, not "no lines"
        return list(self._read(name, {}))

    def follow_log(self, name: str, poll_seconds: float | None = None) -> Iterator[str]:
        """Yield lines as CloudWatch receives them, until the job has ended."""
        tokens: dict[str, str | None] = {}
        while True:
            ended = self.describe_processing_job(name)["ProcessingJobStatus"] in TERMINAL
            yield from self._read(name, tokens)
            if ended:
                return
            self.client.sleep(self.poll_seconds if poll_seconds is None else poll_seconds)


def _host_number(stream: str) -> int:
    host = stream.partition("/")[2]                 # algo-2-1700000000
    parts = host.split("-")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _tagged(stream: str, line: str, streams: int) -> str:
    if streams < 2:
        return line
    host = "-".join(stream.partition("/")[2].split("-")[:2])
    return f"[{host}] {line}"
