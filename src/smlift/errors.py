"""One exception tree for everything smlift reports to a user.

    SmliftError                      what went wrong, where, and the fix
    ├── DefinitionError              a state machine definition is invalid (AWS: InvalidDefinition)
    ├── InputError                   an execution input, a CLI argument or a file is wrong
    ├── ExecutionError               the engine refused an execution request
    │   ├── ExecutionAlreadyExists   same name on the same state machine
    │   ├── ExecutionDoesNotExist
    │   ├── ExecutionNotRedrivable   RedriveExecution of one that succeeded, runs, or is too old
    │   └── WaitTimeout              `wait --timeout` ran out; the execution is still running
    ├── ProcessingJobError           a local SageMaker Processing job request or run failed
    ├── StorageError                 local S3 or the SQLite store refused an operation
    ├── ImageError                   an image URI resolves to nothing, or a build failed
    ├── ModelRegistryError           unknown model or version, or a version not approved
    ├── DeployError                  planning or applying a deployment failed
    └── AwsError                     a botocore error, translated at the one door to AWS (aws.py)

ASL runtime failures (States.TaskFailed, States.Runtime, ...) are *not* exceptions to the user: the
engine carries them as (error, cause) values that Retry and Catch handle. `StatesError` is the one
exception the engine raises internally to unwind a state; it never reaches the CLI.
"""

from __future__ import annotations


class SmliftError(Exception):
    """A failure the user can fix. `where` names a field, file or JSON pointer; `fix` says how.
    `code` is the AWS error code where AWS would answer one (`ExecutionAlreadyExists`,
    `ValidationException`, ...): the CLI prints it as the AWS CLI does."""

    code: str | None = None

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def with_context(self, where: str) -> "SmliftError":
        """Prefix the location as the error travels up (e.g. a file name before a JSON pointer)."""
        self.where = f"{where}{self.where}" if self.where else where
        return self

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class DefinitionError(SmliftError):
    """An invalid state machine definition. `problems` lists every (where, message) found."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None,
                 problems: list[tuple[str, str]] | None = None):
        super().__init__(message, where=where, fix=fix)
        self.problems = problems or [(where or "/", message)]


class InputError(SmliftError):
    pass


class ExecutionError(SmliftError):
    pass


class ExecutionAlreadyExists(ExecutionError):
    code = "ExecutionAlreadyExists"


class ExecutionDoesNotExist(ExecutionError):
    code = "ExecutionDoesNotExist"


class ExecutionNotRedrivable(ExecutionError):
    code = "ExecutionNotRedrivable"


class WaitTimeout(ExecutionError):
    """Waiting gave up before the execution ended (the CLI exits 124 for it, not 1: a run that
    is merely slow is not a run that failed)."""


class ProcessingJobError(SmliftError):
    pass


class StorageError(SmliftError):
    pass


class ImageError(SmliftError):
    pass


class ModelRegistryError(SmliftError):
    pass


class DeployError(SmliftError):
    pass


class AwsError(SmliftError):
    """A botocore error. `code` is the AWS error code (e.g. `ResourceInUse`)."""

    def __init__(self, message: str, *, code: str | None = None, where: str | None = None,
                 fix: str | None = None):
        super().__init__(message, where=where, fix=fix)
        self.code = code


class StatesError(Exception):
    """An ASL runtime error value (`States.TaskFailed`, `States.Runtime`, a task's own error name).

    Raised inside the engine to unwind the current state; Retry/Catch and the run loop turn it
    into history events. Never shown to a user as a traceback.
    """

    def __init__(self, error: str, cause: str | None = None):
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
