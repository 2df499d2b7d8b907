"""`smlift validate`: check the definition, an execution input, the IAM policies and the hand-offs.

    validate_pipeline(definition_path, input_path=None, iam_dir=None, containers=(), *,
                      synthesise=False) -> [Problem, ...]   # [] = ok; warnings only = valid
    synthesise_input(definition) -> an execution input made from what the definition reads

How it works
------------
1. **The definition** is loaded by the engine's own loader (`smlift.asl.definition`), which checks
   structure, transitions, reachability, paths, intrinsics and JSONata the way AWS answers
   `InvalidDefinition`. On top of that we check the pipeline's shape: every processing Task has
   Retry on SageMaker's two transient errors with backoff, and a Catch to a Fail state.
2. **The input** is checked against the contract (`contract.PipelineInput`) when the definition is
   an smlift pipeline (it reads the contract's fields); a definition written elsewhere (the AWS
   sample's, the Data Science SDK's) reads its own input shape, which only the dry run checks.
   With no input (`synthesise=True`), one is made from what the definition reads (section 2b):
   every JSONPath `$.x.y` (Parameters, InputPath, ItemsPath, Choice variables, `$$.Execution.
   Input`) and JSONata `$states.input.x.y` followed from state to state, each value a
   placeholder typed by the request field it lands in (an s3:// URI for S3Uri, a role ARN for
   RoleArn, a number for InstanceCount); a warning says the input was synthesised.
3. **A dry run** executes the definition with the engine itself (`smlift.asl.engine`), on a virtual
   clock, with a recording handler in place of SageMaker: each Task's Arguments are resolved by
   the very code that resolves them in `smlift run`, never a second copy. It runs twice, with an
   ordinary execution name and with an awkward 80-character one (underscores, dots, brackets,
   non-ASCII), so a job name that would break on a long or odd name is caught.
4. **Each recorded request** is checked by `processing.request.check_create_processing_job`
   (botocore's model plus the pattern/max checks botocore skips), and the requests are checked
   together: unique job names, each step reads what the steps before it wrote (a prefix or a
   folder in one; something of the step just before it), the two runs write to disjoint
   prefixes, the entry-point script is inside a staged input. **4b.** With instance_count > 1,
   every job of several instances splits its rows, and a reduce step runs on one instance.
5. **The IAM policies** are rendered with values derived from the input and evaluated
   (`iam.allows`) against what those requests need; `Resource: "*"` where a scoped ARN works and
   service-wide action wildcards are flagged; each trust policy must name its service.
6. **The images' Dockerfiles** (`containers=`) are read as `smlift build` reads them; what builds
   but breaks SageMaker's container contract (code under `/opt/ml`) is a *warning*: a `Problem`
   with `severity="warning"`, which does not make the pipeline invalid.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .asl.clock import VirtualClock
from .asl.definition import load_definition
from .asl.engine import run_execution
from .asl.jsonpath import Field, PathSyntaxError, compile_path
from .asl.tasks import TaskRegistry
from .dockerfile import dockerfile_warnings
from .errors import DefinitionError, InputError, SmliftError
from .pipeline import iam, read_definition, smdocker
from .pipeline.contract import EXAMPLES, PipelineInput, input_problems, read_input_file
from .prebuilt import default_scikit_image
from .processing.request import check_create_processing_job, check_template_fields

PROCESSING_SYNC = "arn:aws:states:::sagemaker:createProcessingJob.sync"
PROCESSING_RESOURCES = (PROCESSING_SYNC, "arn:aws:states:::sagemaker:createProcessingJob")
# What can succeed on a retry: capacity (ResourceLimitExceeded). Retrying these names retries
# permanent errors too: SageMaker.AmazonSageMakerException is how Step Functions names
# ValidationException (a bad instance type, a bad URI), and States.TaskFailed a job whose own
# code failed; States.ALL covers both.
TRANSIENT_ERRORS = ("SageMaker.ResourceLimitExceededException",)
PERMANENT_ERRORS = ("SageMaker.AmazonSageMakerException", "States.TaskFailed", "States.ALL")
EVENTS_RULE = "StepFunctionsGetEventsForSageMakerProcessingJobsRule"
# Dry-run execution names: an ordinary one, and the worst AWS allows (80 characters).
ORDINARY_NAME = "validate-run-1"
AWKWARD_NAME = ("Nightly_Run.2024-06-01T00.00.00_(re-run)+team=ÉQUIPE@eu'x'_"
                "padding_to_eighty_chars!")[:80]


@dataclass(frozen=True)
class Problem:
    where: str
    message: str
    fix: str
    severity: str = "error"   # or "warning": reported, but the pipeline is still valid

    def __str__(self) -> str:
        return f"{self.where}: {self.message}\n  fix: {self.fix}"


@dataclass(frozen=True)
class JobRequest:
    """One resolved CreateProcessingJob request of a dry run."""

    state: str
    request: dict


def validate_pipeline(definition_path: str | Path, input_path: str | Path | None = None,
                      iam_dir: str | Path | None = None,
                      containers: list[str | Path] | tuple = (), *,
                      synthesise: bool = False) -> list[Problem]:
    """Every problem found, each with where, what and the fix. Empty = everything holds;
    only warnings (`severity == "warning"`) = valid. `containers`: build-context folders whose
    Dockerfiles are checked. `synthesise`: with no `input_path`, resolve the requests against
    an input made from what the definition reads (with a warning saying so)."""
    definition_path = Path(definition_path)
    where = str(definition_path)
    problems: list[Problem] = []
    machine, raw = _load_definition(definition_path, problems)
    if raw is not None:
        problems += _check_shape(raw, where)
    contract = not isinstance(raw, dict) or reads_contract(raw)  # unreadable: assume smlift's
    if input_path is None and synthesise and machine is not None:
        data = synthesise_input(raw)
        problems.append(_synthesised_warning(data, where))
    else:
        data = _load_input(input_path, problems)
    pipeline = None
    if data is not None and contract:
        pipeline = _valid_input(data, str(input_path or "the synthesised input"), problems)
    runs: dict[str, list[JobRequest]] = {}
    # a broken input is reported, not run; a definition's own input shape only by the dry run
    if machine is not None and data is not None and (pipeline is not None or not contract):
        runs = _dry_runs(machine, data, where, problems)
        for jobs in runs.values():
            problems += _check_requests(jobs, where)
        if contract:  # the pipeline contract's hand-offs and naming (docs/pipeline.md)
            problems += _check_hand_offs(runs.get(ORDINARY_NAME, []), data, where)
            problems += _check_runs_disjoint(runs, where)
            problems += _check_sharding(machine, data, where)
    if iam_dir is not None:
        problems += _check_iam(Path(iam_dir), pipeline, runs.get(ORDINARY_NAME, []))
    for context in containers:
        problems += _check_dockerfile(Path(context))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out


# --- 1. the definition --------------------------------------------------------------------------

def _load_definition(path: Path, problems: list[Problem]):
    try:
        raw = read_definition(path)[1]
    except InputError as exc:
        problems.append(Problem(exc.where, exc.message, exc.fix))
        return None, None
    if not isinstance(raw, dict):
        problems.append(Problem(f"{path}:/", "the definition must be a JSON object",
                                'write {"StartAt": ..., "States": {...}} (Amazon States Language)'))
        return None, None
    try:
        return load_definition(raw, _recording_registry([])), raw
    except DefinitionError as exc:
        names = list(raw.get("States") or {}) if isinstance(raw, dict) else []
        problems += [Problem(f"{path}:{where}", message, _definition_fix(message, names))
                     for where, message in exc.problems]
        return None, raw


def _definition_fix(message: str, names: list[str]) -> str:
    if "MISSING_TRANSITION_TARGET" in message:
        target = message.rsplit(": ", 1)[-1]
        close = difflib.get_close_matches(target, names, n=1)
        hint = f"did you mean {close[0]}?" if close else f"one of {', '.join(names)}"
        return f"point Next at the name of an existing state ({hint})"
    for needle, fix in DEFINITION_FIXES.items():
        if needle in message:
            return fix
    return "correct the definition at this JSON pointer (Amazon States Language spec)"


DEFINITION_FIXES = {
    "UNREACHABLE_STATE": "reach this state from StartAt through some Next, or remove it",
    "is not supported": "remove the field, or move it to the state type that has it",
    "no local handler": "use a Task resource the embedded default supports",
    "JSONata": "correct the JSONata expression between {% and %}",
}


def _check_shape(raw: dict, where: str) -> list[Problem]:
    """Each processing Task retries SageMaker's transient errors with backoff and catches into a
    Fail state."""
    states = raw.get("States") if isinstance(raw.get("States"), dict) else {}
    tasks = {n: s for n, s in states.items() if isinstance(s, dict)
             and s.get("Type") == "Task" and s.get("Resource") in PROCESSING_RESOURCES}
    if not tasks:
        return [Problem(f"{where}:/States", "no Task state runs a SageMaker Processing job, "
                        "so no request is checked", "add Task states with Resource "
                        f"{PROCESSING_SYNC} (AWS accepts the definition as it is)",
                        severity="warning")]
    problems = []
    for name, state in tasks.items():
        problems += _check_retry(name, state, where) + _check_catch(name, state, states, where)
        problems += _check_static_fields(name, state, where)
    return problems


def _check_static_fields(name: str, state: dict, where: str) -> list[Problem]:
    """Fields of the Task's request that CreateProcessingJob does not have, or literal values of
    the wrong type, found without an input (Step Functions refuses them at run time with
    States.Runtime, before SageMaker sees them)."""
    key = "Arguments" if "Arguments" in state else "Parameters"
    template = state.get(key)
    if not isinstance(template, dict):
        return []
    return [Problem(f"{where}:/States/{name}/{key}/" + path.replace(".", "/"), message,
                    "correct the field's name or type (CreateProcessingJob's request shape)")
            for path, message in check_template_fields(template, jsonpath=key == "Parameters")]


def _check_retry(name: str, state: dict, where: str) -> list[Problem]:
    retriers = [r for r in state.get("Retry") or [] if isinstance(r, dict)]
    problems = []
    for error in TRANSIENT_ERRORS:
        matching = [r for r in retriers if error in (r.get("ErrorEquals") or [])]
        if not matching:
            problems.append(Problem(f"{where}:/States/{name}/Retry", f"no retrier for {error}",
                                    f'add {{"ErrorEquals": ["{error}"], "BackoffRate": 2, ...}}',
                                    severity="warning"))  # advice: AWS accepts it
        elif all(r.get("BackoffRate", 2.0) <= 1 for r in matching):
            problems.append(Problem(f"{where}:/States/{name}/Retry",
                                    f"the retrier for {error} has no backoff",
                                    "set BackoffRate above 1 (e.g. 2)", severity="warning"))
    for error in PERMANENT_ERRORS:
        if any(error in (r.get("ErrorEquals") or []) for r in retriers):
            problems.append(Problem(
                f"{where}:/States/{name}/Retry", f"the retrier for {error} retries permanent "
                "errors (a ValidationException, a failing step) that fail again every time",
                f"retry only {', '.join(TRANSIENT_ERRORS)}; let Catch handle {error}",
                severity="warning"))
    return problems


def _check_catch(name: str, state: dict, states: dict, where: str) -> list[Problem]:
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and "States.ALL" in (catcher.get("ErrorEquals") or []):
            target = states.get(catcher.get("Next"), {})
            if isinstance(target, dict) and target.get("Type") == "Fail":
                return []
    return [Problem(f"{where}:/States/{name}/Catch",
                    "a failure of this step does not reach a Fail state",
                    'add {"ErrorEquals": ["States.ALL"], "Next": "<a Fail state>"} so the '
                    "execution says which step failed and why", severity="warning")]


# --- 2. the input -------------------------------------------------------------------------------

def _load_input(input_path, problems: list[Problem]) -> Any:
    if input_path is None:
        return None
    try:
        return read_input_file(input_path)
    except SmliftError as exc:
        problems.append(Problem(exc.where or str(input_path), exc.message, exc.fix or ""))
        return None


def _valid_input(data: Any, where: str, problems: list[Problem]) -> PipelineInput | None:
    found = input_problems(data)
    for field, message in found:
        example = EXAMPLES.get(field)
        fix = (f'set "{field}" as in docs/pipeline.md, e.g. {json.dumps(example)}'
               if example is not None else "remove the field or correct it (docs/pipeline.md)")
        problems.append(Problem(f"{where}:{field}" if field else where, message, fix))
    return None if found else PipelineInput.model_validate(data)


# --- 2b. an input when none is given ------------------------------------------------------------

CONTRACT_FIELDS = ("input_uri", "output_uri", "code_uri", "custom_image_uri", "scikit_image_uri",
                   "role")
_JSONPATH = re.compile(r"(?<![\w$])\$(?:\.[A-Za-z_][\w-]*|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])*")
_STATES_INPUT = re.compile(r"\$states\.(input|context\.Execution\.Input)((?:\.[A-Za-z_]\w*)*)")
# Where a value lands -> the placeholder put there (a request field, in any Task's request).
PLACEHOLDER_NUMBERS = {"InstanceCount": 1, "VolumeSizeInGB": 30, "MaxRuntimeInSeconds": 3600,
                       "MaxWaitTimeInSeconds": 3600, "MaxConcurrency": 1, "Seconds": 1,
                       "TimeoutSeconds": 3600, "HeartbeatSeconds": 60}
PLACEHOLDER_ROLE = "arn:aws:iam::123456789012:role/smlift-validate"
PLACEHOLDER_BUCKET = "smlift-validate"
_CHOICE_KINDS = {"String": "string", "Numeric": "number", "Boolean": "boolean",
                 "Timestamp": "timestamp"}

Read = tuple[tuple, str]  # (path into the execution input, the field its value lands in)


def reads_contract(raw: dict) -> bool:
    """Whether the definition is an smlift pipeline: it reads a field of the input contract."""
    return _any_contract_field(input_reads(raw))


def _any_contract_field(reads: list[Read]) -> bool:
    return any(path[:1] and path[0] in CONTRACT_FIELDS for path, _ in reads)


def synthesise_input(raw: dict) -> dict:
    """An execution input that gives every path the definition reads a plausible value: the
    contract's examples for an smlift pipeline, else placeholders typed by where they land."""
    reads = input_reads(raw)
    if _any_contract_field(reads):
        return dict(EXAMPLES)
    data: dict = {}
    for path, field in sorted(reads, key=lambda read: len(read[0])):
        if path:
            _put(data, path, _placeholder(path, field))
    return data


def _synthesised_warning(data: dict, where: str) -> Problem:
    fields = sorted(_leaf_paths(data))
    shown = ", ".join(fields[:6]) + (f" and {len(fields) - 6} more" if len(fields) > 6 else "")
    return Problem(where, "no execution input was given: the requests were resolved against a "
                          f"synthesised one ({len(fields)} field(s): {shown or 'none read'}), "
                          "with placeholder values", "pass --input FILE (a real execution input) "
                          "to check the requests it makes", severity="warning")


def _leaf_paths(value: Any, prefix: str = "$") -> list[str]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _leaf_paths(v, f"{prefix}.{k}")]
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        return _leaf_paths(value[0], f"{prefix}[0]")
    return [prefix]


def _put(data: dict, path: tuple, value: Any) -> None:
    """Set `value` at `path`, making objects (and one-item arrays for int steps) on the way;
    a deeper read wins over a shallower one (an object, not a placeholder string)."""
    node: Any = data
    for step, following in zip(path, path[1:]):
        container: Any = [] if isinstance(following, int) else {}
        if isinstance(node, dict):
            if not isinstance(node.get(step), type(container)):
                node[step] = container
            node = node[step]
        else:
            while len(node) <= step:
                node.append(container)
            if not isinstance(node[step], type(container)):
                node[step] = container
            node = node[step]
    last = path[-1]
    if isinstance(node, dict):
        if not isinstance(node.get(last), (dict, list)):
            node[last] = value
    else:
        while len(node) <= last:
            node.append(value)


def _placeholder(path: tuple, field: str) -> Any:
    """A value for `path`, typed by the request field it lands in (else by its own name)."""
    if field.startswith("kind:"):  # a Choice rule's comparison says the type
        return {"number": 1, "boolean": True, "timestamp": "2024-01-01T00:00:00Z"}.get(
            field[5:], _slug(path))
    name = field or next((str(p) for p in reversed(path) if isinstance(p, str)), "value")
    lower = name.lower()
    if name in PLACEHOLDER_NUMBERS or lower.endswith(("count", "seconds", "ingb")):
        return PLACEHOLDER_NUMBERS.get(name, 1)
    if lower == "imageuri" or lower.endswith("image") or lower.endswith("imageuri"):
        return default_scikit_image("us-east-1")
    if lower.endswith("rolearn") or lower == "role":
        return PLACEHOLDER_ROLE
    if lower.endswith("arn"):
        return f"arn:aws:states:us-east-1:123456789012:stateMachine:{_slug(path)}"
    if "s3" in lower or lower.endswith(("uri", "url", "prefix")):
        return f"s3://{PLACEHOLDER_BUCKET}/{'/'.join(str(p) for p in path)}/"
    if lower == "instancetype":
        return "ml.m5.xlarge"
    if lower == "localpath":
        return f"/opt/ml/processing/{_slug(path)}"
    if name in ("ContainerArguments", "ContainerEntrypoint"):
        return [_slug(path)]
    if name == "Tags":
        return [{"Key": "smlift-validate", "Value": _slug(path)}]
    return _slug(path)  # a name (job names included): letters, digits and hyphens


def _slug(path: tuple) -> str:
    text = "-".join(str(p) for p in path if isinstance(p, str)).lower()
    return ("validate-" + re.sub(r"[^a-z0-9]+", "-", text).strip("-"))[:63].rstrip("-")


def _parse_path(text: str) -> tuple | None:
    """`$.a.b[0]['c']` -> ("a", "b", 0, "c"), by the engine's own JSONPath parser; None for what
    is not a plain (definite) path from the input."""
    try:
        path = compile_path(text)
    except (PathSyntaxError, TypeError):
        return None
    if path.root != "$" or not path.definite:
        return None
    return tuple(step.name if isinstance(step, Field) else step.index for step in path.steps)


def input_reads(raw: dict) -> list[Read]:
    """Every (execution-input path, landing field) the definition reads, following each
    state's input from StartAt (InputPath, ResultPath null, OutputPath...). A state whose input
    is a task's result (not the execution input) adds only its `$$.Execution.Input` reads."""
    reads: list[Read] = []
    _walk(raw, (), raw.get("QueryLanguage", "JSONPath"), reads)
    return list(dict.fromkeys(reads))


def _walk(machine: dict, prefix: tuple | None, language: str, reads: list[Read]) -> None:
    states = machine.get("States") if isinstance(machine.get("States"), dict) else {}
    queue, seen = [(machine.get("StartAt"), prefix)], set()
    while queue:
        name, prefix = queue.pop()
        if (name, prefix) in seen or not isinstance(states.get(name), dict):
            continue
        seen.add((name, prefix))
        queue += _state_reads(states[name], prefix, language, reads)


def _state_reads(state: dict, prefix: tuple | None, language: str,
                 reads: list[Read]) -> list[tuple[str, tuple | None]]:
    """Record what one state reads; return (next state, its input's path) pairs."""
    language = state.get("QueryLanguage", language)
    kind = state.get("Type")
    if language == "JSONata":
        _jsonata_reads(state, prefix, reads)
        effective, output = prefix, (prefix if kind in ("Pass", "Wait", "Choice") and
                                     "Output" not in state else None)
    else:
        effective = _join(prefix, state.get("InputPath", "$"))
        for key in ("Parameters", "ItemSelector"):
            _template_reads(state.get(key), effective, "", reads)
        for key, field in (("SecondsPath", "kind:number"), ("TimestampPath", "kind:timestamp")):
            if isinstance(state.get(key), str):
                _add(reads, _join(effective, state[key]), field)
        for rule in state.get("Choices") or []:
            _choice_reads(rule, effective, reads)
        output = _jsonpath_output(state, prefix, effective)
    _branch_reads(state, effective, language, reads)
    targets = [state.get("Next"), state.get("Default")]
    targets += [rule.get("Next") for rule in state.get("Choices") or [] if isinstance(rule, dict)]
    caught = [(c.get("Next"), prefix if c.get("ResultPath", "$") not in ("$",) else None)
              for c in state.get("Catch") or [] if isinstance(c, dict)]
    return [(t, output) for t in targets if isinstance(t, str)] + caught


def _jsonpath_output(state: dict, prefix: tuple | None, effective: tuple | None) -> tuple | None:
    """The path (in the execution input) of what the state passes on, or None (a result)."""
    if state.get("ResultPath", "$") != "$":
        out = prefix  # its input unchanged (ResultPath null) or with the result beside it
    elif state.get("Type") in ("Choice", "Wait", "Succeed") or (
            state.get("Type") == "Pass" and not {"Result", "Parameters"} & set(state)):
        out = effective
    else:
        out = None
    return _join(out, state.get("OutputPath", "$"))


def _branch_reads(state: dict, effective: tuple | None, language: str, reads: list[Read]) -> None:
    """Map's item processor sees one item of ItemsPath (unless an ItemSelector reshapes it);
    each Parallel branch sees the state's input."""
    if state.get("Type") == "Map":
        items = _join(effective, state.get("ItemsPath", "$")) if language != "JSONata" else None
        if items is not None and items:
            _add(reads, items + (0,), "")
        item = None if ({"ItemSelector", "Parameters"} & set(state) or items is None) \
            else items + (0,)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            _walk(processor, item, processor.get("QueryLanguage", language), reads)
    for branch in state.get("Branches") or []:
        if isinstance(branch, dict):
            _walk(branch, effective if "Parameters" not in state else None,
                  branch.get("QueryLanguage", language), reads)


def _join(prefix: tuple | None, path: Any) -> tuple | None:
    if prefix is None or path is None or not isinstance(path, str):
        return None
    steps = _parse_path(path)
    return None if steps is None else prefix + steps


def _add(reads: list[Read], path: tuple | None, field: str) -> None:
    if path is not None:
        reads.append((path, field))


def _template_reads(template: Any, effective: tuple | None, field: str, reads: list[Read]) -> None:
    """The `"key.$": "$.path"` (or `$$.Execution.Input...`, or intrinsic arguments) reads."""
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                _expression_reads(value, effective, key[:-2], reads)
            else:
                _template_reads(value, effective, key, reads)
    elif isinstance(template, list):
        for item in template:
            _template_reads(item, effective, field, reads)


def _expression_reads(text: str, effective: tuple | None, field: str, reads: list[Read]) -> None:
    if text.startswith("$$.Execution.Input"):
        _add(reads, _parse_path("$" + text[len("$$.Execution.Input"):]), field)
        return
    if text.startswith("$$"):
        return
    if text.startswith("$"):
        _add(reads, _join(effective, text), field)
        return
    for match in _JSONPATH.finditer(text):  # the arguments of an intrinsic function
        if text[max(match.start() - 1, 0)] != "$":
            _add(reads, _join(effective, match.group()), "")


def _choice_reads(rule: Any, effective: tuple | None, reads: list[Read]) -> None:
    if not isinstance(rule, dict):
        return
    for nested in rule.get("And") or rule.get("Or") or ([rule["Not"]] if "Not" in rule else []):
        _choice_reads(nested, effective, reads)
    operator = next((k for k in rule if k not in ("Variable", "Next", "And", "Or", "Not")), "")
    kind = next((v for k, v in _CHOICE_KINDS.items() if operator.startswith(k)), "")
    if isinstance(rule.get("Variable"), str):
        _add(reads, _join(effective, rule["Variable"]), f"kind:{kind}" if kind else "")
    if operator.endswith("Path") and isinstance(rule.get(operator), str):
        _add(reads, _join(effective, rule[operator]), f"kind:{kind}" if kind else "")


def _jsonata_reads(state: dict, prefix: tuple | None, reads: list[Read]) -> None:
    """`$states.input.x.y` (the state's input) and `$states.context.Execution.Input.x` in any
    string of the state, landing in the key that holds it."""
    def visit(value: Any, field: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in ("Next", "ItemProcessor", "Iterator", "Branches", "Comment"):
                    visit(item, key)
        elif isinstance(value, list):
            for item in value:
                visit(item, field)
        elif isinstance(value, str) and "{%" in value:
            whole = value.strip().startswith("{%") and value.count("$states.") == 1
            for match in _STATES_INPUT.finditer(value):
                steps = _parse_path("$" + match.group(2)) or ()
                base = prefix if match.group(1) == "input" else ()
                if base is not None and steps:
                    _add(reads, base + steps, field if whole else "")

    visit(state, "")


# --- 3. the dry runs ----------------------------------------------------------------------------

def _recording_registry(recorded: list[JobRequest]):
    def record(request) -> dict:
        parameters = request.parameters
        recorded.append(JobRequest(request.state_name, parameters))
        return _describe_result(parameters)

    registry = TaskRegistry()
    for resource in PROCESSING_RESOURCES:
        registry.register(resource, record)
    return registry


def _describe_result(request: Any) -> dict:
    """What DescribeProcessingJob would say about a completed job made from `request`."""
    if not isinstance(request, dict):
        return {}
    name = str(request.get("ProcessingJobName", ""))
    described = {k: v for k, v in request.items() if k != "Tags"}
    return {**described, "ProcessingJobStatus": "Completed",
            "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{name.lower()}"}


def dry_run(machine, data: Any, name: str = ORDINARY_NAME):
    """Run the definition on the engine with a recording SageMaker; (result, requests)."""
    recorded: list[JobRequest] = []
    result = run_execution(machine, data, name=name, state_machine_name=iam.STATE_MACHINE_NAME,
                           tasks=_recording_registry(recorded), clock=VirtualClock(),
                           random=lambda: 0.5)
    return result, recorded


def resolve_requests(definition: Any, data: Any, name: str = ORDINARY_NAME) -> list[JobRequest]:
    """The CreateProcessingJob requests the definition makes for this input, in order."""
    machine = load_definition(definition, _recording_registry([]))
    result, recorded = dry_run(machine, data, name)
    if result.status != "SUCCEEDED":
        raise DefinitionError(f"the dry run ended {result.status}: {result.error}: {result.cause}")
    return recorded


def _dry_runs(machine, data: Any, where: str, problems: list[Problem]) -> dict[str, list[JobRequest]]:
    runs = {}
    for name in (ORDINARY_NAME, AWKWARD_NAME):
        result, recorded = dry_run(machine, data, name)
        if result.status != "SUCCEEDED":
            problems.append(Problem(
                f"{where}", f"resolving the definition against the input (execution name "
                f"{name!r}) ended {result.status}: {result.error}: {result.cause}",
                "correct the expression or the input field named in the cause"))
        runs[name] = recorded
    return runs


# --- 4b. scaling out ------------------------------------------------------------------------------

# Reduce steps: they combine what every instance of the step before them wrote (the partial
# sums of the per-segment summary), so they run on one instance (docs/pipeline.md).
WHOLE_TABLE_STEPS = ("Summarize",)
# A job of several instances whose code splits the rows between its hosts itself (from
# /opt/ml/config/resourceconfig.json) declares it in its Environment, as Preprocess does: its
# one raw file cannot be sharded by key, so every instance gets all of it.
SPLIT_VARIABLE, SPLIT_BY_HOST = "SMLIFT_SPLIT", "by-host"


def _check_sharding(machine, data: dict, where: str) -> list[Problem]:
    """With instance_count > 1 (the input's, else 2): every job of several instances splits its
    rows, by sharding a data input (ShardedByS3Key) or by declaring that its code splits them
    by host (Environment SMLIFT_SPLIT=by-host); else each instance would do all the work and
    write the same files. A reduce step (WHOLE_TABLE_STEPS) runs on one instance. And the
    definition uses instance_count at all."""
    count = max(2, data.get("instance_count", 1))
    result, jobs = dry_run(machine, {**data, "instance_count": count})
    if result.status != "SUCCEEDED":
        return []  # the ordinary dry run reports why
    problems = []
    for job in _dict_requests(jobs):
        instances = _instance_count(job)
        if instances != 1:
            problems += _check_split(job, instances, f"{where}:/States/{job.state}/Arguments")
    if data.get("instance_count", 1) > 1 and all(
            _instance_count(job) == 1 for job in _dict_requests(jobs)):
        problems.append(Problem(f"{where}:/States", "the input sets instance_count, but no "
                                "step's InstanceCount uses it", "pass "
                                "\"{% $config.instance_count %}\" as a step's InstanceCount",
                                severity="warning"))
    return problems


def _instance_count(job: JobRequest) -> Any:
    resources = job.request.get("ProcessingResources")
    cluster = resources.get("ClusterConfig") if isinstance(resources, dict) else None
    return cluster.get("InstanceCount", 1) if isinstance(cluster, dict) else 1


def _check_split(job: JobRequest, instances: Any, here: str) -> list[Problem]:
    """One job of several instances: a reduce step may not be one; any other splits its rows."""
    if job.state in WHOLE_TABLE_STEPS:
        return [Problem(f"{here}/ProcessingResources/ClusterConfig/InstanceCount",
                        f"{job.state} combines what every instance of the step before it "
                        f"wrote, but runs on {instances} instances: each would write the whole "
                        "result, over the others'", "give it InstanceCount 1 "
                        "(docs/pipeline.md, Scaling out)")]
    if any(item["S3Input"].get("S3DataDistributionType") == "ShardedByS3Key"
           for item in _inputs(job.request)):
        return []
    environment = job.request.get("Environment")
    declared = environment.get(SPLIT_VARIABLE) if isinstance(environment, dict) else None
    if declared == SPLIT_BY_HOST:
        return []
    if declared is not None:
        return [Problem(f"{here}/Environment/{SPLIT_VARIABLE}",
                        f"{SPLIT_VARIABLE} is {declared!r}; the only split smlift knows is "
                        f"{SPLIT_BY_HOST!r}", f'set "{SPLIT_VARIABLE}": "{SPLIT_BY_HOST}" (the '
                        "code splits its rows by host), or shard a data input")]
    return [Problem(f"{here}/ProcessingInputs",
                    f"{job.state} runs on {instances} instances but shards none of its inputs: "
                    "every instance would process all of the data and write the same files",
                    'set "S3DataDistributionType": "ShardedByS3Key" on its data input; or, '
                    "when an input cannot be sharded (one file) and the code splits the rows "
                    "between the hosts of resourceconfig.json itself, declare it: "
                    f'"Environment": {{"{SPLIT_VARIABLE}": "{SPLIT_BY_HOST}"}}')]


# --- 4. the requests ----------------------------------------------------------------------------

def _pointer(field_path: str) -> str:
    return "/" + field_path.replace("[", ".").replace("]", "").replace(".", "/") if field_path else ""


def _check_requests(jobs: list[JobRequest], where: str) -> list[Problem]:
    problems = []
    for job in jobs:
        for field, message in check_create_processing_job(job.request):
            problems.append(Problem(f"{where}:/States/{job.state}/Arguments{_pointer(field)}",
                                    f"{field}: {message}" if field else message,
                                    _request_fix(job.state, field, message)))
        problems += _check_entrypoint(job, where)
    names = [job.request.get("ProcessingJobName") for job in jobs if isinstance(job.request, dict)]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(Problem(f"{where}:/States", f"two steps use the job name {name!r}",
                                "put the step's name into each ProcessingJobName"))
    return problems


def _request_fix(state: str, field: str, message: str) -> str:
    if message.startswith("is required"):
        parent, _, leaf = field.rpartition(".")
        return f"add {leaf} to /States/{state}/Arguments{_pointer(parent)}"
    return ("change what the Task's Arguments produce for this field (or the input value it "
            "comes from) so CreateProcessingJob accepts it")


def _check_entrypoint(job: JobRequest, where: str) -> list[Problem]:
    app = job.request.get("AppSpecification") if isinstance(job.request, dict) else None
    entry = app.get("ContainerEntrypoint") if isinstance(app, dict) else None
    scripts = [a for a in entry or [] if isinstance(a, str) and a.startswith("/opt/ml/processing/")]
    staged = [i.get("S3Input", {}).get("LocalPath", "") for i in _inputs(job.request)]
    return [Problem(f"{where}:/States/{job.state}/Arguments/AppSpecification/ContainerEntrypoint",
                    f"{script} is not inside any ProcessingInput's LocalPath ({', '.join(staged)})",
                    "stage the code prefix (code_uri) at the folder the script path names")
            for script in scripts
            if not any(local and script.startswith(local.rstrip("/") + "/") for local in staged)]


def _dict_requests(jobs: list[JobRequest]) -> list[JobRequest]:
    return [job for job in jobs if isinstance(job.request, dict)]


def _inputs(request: Any) -> list[dict]:
    items = request.get("ProcessingInputs") if isinstance(request, dict) else None
    return [i for i in items or [] if isinstance(i, dict) and isinstance(i.get("S3Input"), dict)]


def _outputs(request: Any) -> list[dict]:
    config = request.get("ProcessingOutputConfig") if isinstance(request, dict) else None
    items = config.get("Outputs") if isinstance(config, dict) else None
    return [o for o in items or [] if isinstance(o, dict) and isinstance(o.get("S3Output"), dict)]


def _check_hand_offs(jobs: list[JobRequest], data: dict, where: str) -> list[Problem]:
    """Each step reads what the steps before it wrote (a prefix they wrote, or a folder inside
    one), and at least one thing the step just before it wrote; the first reads input_uri; all
    write under output_uri."""
    problems: list[Problem] = []
    external = {data.get("input_uri"), data.get("code_uri")}
    for index, job in enumerate(jobs):
        before = jobs[index - 1] if index else None
        written = [o["S3Output"].get("S3Uri") for o in _outputs(before.request)] if before else []
        earlier = [str(o["S3Output"].get("S3Uri")) for step in jobs[:index]
                   for o in _outputs(step.request)]
        found = len(problems)
        for position, item in enumerate(_inputs(job.request)):
            uri = item["S3Input"].get("S3Uri")
            if uri in external or _under_any(uri, earlier):
                continue
            pointer = f"/States/{job.state}/Arguments/ProcessingInputs/{position}/S3Input/S3Uri"
            source = (f"{before.state} writes {', '.join(map(str, written))}" if before
                      else "it is the first step, so it can only read input_uri or code_uri")
            problems.append(Problem(f"{where}:{pointer}",
                                    f"reads {uri}, which no step before it writes: {source}",
                                    f"read what {before.state} (or a step before it) writes: "
                                    "the same expression as its ProcessingOutputConfig S3Uri, "
                                    "or a folder in it"
                                    if before else "read input_uri (and code_uri)"))
        if before and written and len(problems) == found and not any(
                _under_any(i["S3Input"].get("S3Uri"), written) for i in _inputs(job.request)):
            problems.append(Problem(f"{where}:/States/{job.state}/Arguments/ProcessingInputs",
                                    f"reads nothing that {before.state} wrote ({', '.join(written)})",
                                    f"add an input whose S3Uri is {before.state}'s output"))
        problems += _check_outputs_under(job, data, where)
    return problems


def _under_any(uri: Any, prefixes: list) -> bool:
    """Is `uri` one of `prefixes`, or a folder inside one (`.../preprocessed/parts/`)?"""
    if not isinstance(uri, str):
        return False
    return any(isinstance(p, str) and (uri == p or (p.endswith("/") and uri.startswith(p)))
               for p in prefixes)


def _check_outputs_under(job: JobRequest, data: dict, where: str) -> list[Problem]:
    base = str(data.get("output_uri", "")).rstrip("/") + "/"
    return [Problem(f"{where}:/States/{job.state}/Arguments/ProcessingOutputConfig/Outputs/{i}/S3Output/S3Uri",
                    f"writes {o['S3Output'].get('S3Uri')}, outside output_uri ({data.get('output_uri')})",
                    "derive every output location from output_uri and the execution name")
            for i, o in enumerate(_outputs(job.request))
            if not str(o["S3Output"].get("S3Uri", "")).startswith(base)]


def _check_runs_disjoint(runs: dict[str, list[JobRequest]], where: str) -> list[Problem]:
    """Two executions never share a job name or an output prefix."""
    if len(runs) < 2:
        return []
    first, second = (_dict_requests(jobs) for jobs in list(runs.values())[:2])
    problems = []
    for a in first:
        for b in second:
            if a.state != b.state:
                continue
            if a.request.get("ProcessingJobName") == b.request.get("ProcessingJobName"):
                problems.append(Problem(f"{where}:/States/{a.state}/Arguments/ProcessingJobName",
                                        "two executions get the same job name "
                                        f"{a.request.get('ProcessingJobName')!r}",
                                        "derive the job name from the execution (name and a hash)"))
            problems += _shared_prefixes(a, b, where)
    return problems


def _shared_prefixes(a: JobRequest, b: JobRequest, where: str) -> list[Problem]:
    uris_a = [str(o["S3Output"].get("S3Uri", "")) for o in _outputs(a.request)]
    uris_b = [str(o["S3Output"].get("S3Uri", "")) for o in _outputs(b.request)]
    return [Problem(f"{where}:/States/{a.state}/Arguments/ProcessingOutputConfig",
                    f"two executions write to overlapping prefixes {x} and {y}",
                    "put the execution name into every output location")
            for x in uris_a for y in uris_b if x.startswith(y) or y.startswith(x)]


# --- 5. IAM -------------------------------------------------------------------------------------

def _check_iam(iam_dir: Path, pipeline: PipelineInput | None, jobs: list[JobRequest]) -> list[Problem]:
    pipeline = pipeline or PipelineInput.model_validate(EXAMPLES)
    values = iam.values_for_input(pipeline)
    try:
        roles = iam.load_policies(iam_dir, values)
    except SmliftError as exc:
        return [Problem(exc.where or str(iam_dir), exc.message, exc.fix or "")]
    problems = []
    for role in roles.values():
        problems += _check_trust(role)
        problems += [Problem(f"{role.policy_file}:{pointer}", message,
                             "name the exact ARNs (or prefixes) and actions needed")
                     for pointer, message in iam.broad_grants(role.policy)]
    missing: dict[tuple, list[str]] = {}  # one problem per resource and reason, all its actions
    for need in (Need(*item) for item in required_permissions(jobs, values, pipeline)):
        if not iam.allows(roles[need.role].policy, need.action, need.resource, need.context):
            key = (need.role, need.resource, json.dumps(need.context), need.why, need.cover)
            missing.setdefault(key, []).append(need.action)
    for (role, resource, context, why, cover), actions in missing.items():
        condition = f" when {json.loads(context)}" if context != "null" else ""
        quoted = ", ".join(f'"{action}"' for action in actions)
        problems.append(Problem(str(roles[role].policy_file),
                                f"does not allow {', '.join(actions)} on {resource}{condition}, "
                                f"which {why}",
                                f"add {quoted} to a statement whose Resource covers "
                                f"{cover or resource}"))
    return problems


class Need(NamedTuple):
    """One permission the pipeline needs; `cover` is the resource pattern the fix should name
    when the resource holds a name made up at run time (sm-docker's random suffixes)."""

    role: str
    action: str
    resource: str
    context: dict | None
    why: str
    cover: str | None = None


def _check_trust(role: iam.RolePolicies) -> list[Problem]:
    wanted = iam.TRUSTED_SERVICE[role.role]
    services = iam.trusted_services(role.trust)
    problems = []
    if wanted not in services:
        problems.append(Problem(str(role.trust_file), f"does not let {wanted} assume the role",
                                f'allow sts:AssumeRole for the Principal {{"Service": "{wanted}"}}'))
    for other in sorted(services - {wanted}):
        problems.append(Problem(str(role.trust_file), f"also lets {other} assume the role",
                                f"remove {other}: only {wanted} needs this role"))
    return problems


def required_permissions(jobs: list[JobRequest], values: dict, pipeline: PipelineInput):
    """(role, action, resource ARN, condition context, why) for everything the run needs."""
    region, account = values["Region"], values["AccountId"]
    rule = f"arn:aws:events:{region}:{account}:rule/{EVENTS_RULE}"
    needs = []
    for job in _dict_requests(jobs):
        name = str(job.request.get("ProcessingJobName", ""))
        arn = f"arn:aws:sagemaker:{region}:{account}:processing-job/{name.lower()}"
        why = f"createProcessingJob.sync needs for {job.state}"
        for action in ("CreateProcessingJob", "DescribeProcessingJob", "StopProcessingJob"):
            needs.append(("stepfunctions", f"sagemaker:{action}", arn, None, why))
        if job.request.get("Tags"):
            needs.append(("stepfunctions", "sagemaker:AddTags", arn, None, f"{job.state}'s Tags need"))
        for action in ("PutTargets", "PutRule", "DescribeRule"):
            needs.append(("stepfunctions", f"events:{action}", rule, None, why))
        if isinstance(job.request.get("RoleArn"), str):
            needs.append(("stepfunctions", "iam:PassRole", job.request["RoleArn"],
                          {"iam:PassedToService": "sagemaker.amazonaws.com"},
                          f"{job.state} passes its RoleArn"))
        needs += _job_data_needs(job, name, region, account)
    needs += _build_needs(values, pipeline)
    return needs


def _job_data_needs(job: JobRequest, name: str, region: str, account: str):
    needs = []
    for item in _inputs(job.request):
        bucket, key = iam.split_s3(str(item["S3Input"].get("S3Uri", "")))
        why = f"{job.state} reads {item['S3Input'].get('S3Uri')}"
        needs.append(("sagemaker", "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", None, why))
        needs.append(("sagemaker", "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": key}, why))
    for item in _outputs(job.request):
        bucket, key = iam.split_s3(str(item["S3Output"].get("S3Uri", "")))
        needs.append(("sagemaker", "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", None,
                      f"{job.state} writes {item['S3Output'].get('S3Uri')}"))
    image = str((job.request.get("AppSpecification") or {}).get("ImageUri", ""))
    match = iam.ECR_IMAGE.match(image)
    if match:
        repo = f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"
        for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
            needs.append(("sagemaker", action, repo, None, f"{job.state} pulls {image}"))
        needs.append(("sagemaker", "ecr:GetAuthorizationToken", "*", None, f"{job.state} pulls {image}"))
    stream = (f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/ProcessingJobs:"
              f"log-stream:{name}/algo-1-1700000000")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        needs.append(("sagemaker", action, stream, None, f"{job.state} writes its logs"))
    return needs


def _build_needs(values: dict, pipeline: PipelineInput):
    """The image-build role serves two routes: `smlift build --remote` (its names come from the
    placeholders) and `sm-docker build .` (names fixed by sagemaker-studio-image-build: both of
    its project forms, their log groups, its context key and its default repositories)."""
    region, account, bucket = values["Region"], values["AccountId"], values["BuildBucket"]
    project = values["BuildProject"]  # a pattern such as smlift-build-*: fill the wildcard in
    if project.endswith("*"):
        project = f"{project[:-1]}{values['ImageRepository'].replace('/', '-')}-1a2b3c4d"
    key = f"{values['BuildContextPrefix']}{project}.zip"
    smlift = _BuildNames(values["ImageRepository"], project, key,
                         values["BuildProject"], values["ImageRepository"], key)
    needs = _one_build_needs(region, account, bucket, smlift,
                             f"`smlift build --remote` ({pipeline.custom_image_uri})")
    for names in smdocker.example_names():
        route = (f"`sm-docker build .` {names.where} (sagemaker-studio-image-build "
                 f"{smdocker.VERSION}: project {names.project})")
        needs += _one_build_needs(region, account, bucket, names, route)
    return needs


class _BuildNames(NamedTuple):
    """smlift's own remote-build names, shaped as smdocker.SmDockerNames."""

    repository: str
    project: str
    context_key: str
    project_pattern: str
    repository_pattern: str
    context_pattern: str


def _one_build_needs(region: str, account: str, bucket: str, names, route: str) -> list[tuple]:
    """What one remote build's CodeBuild role does: push, log in, read the context, log."""
    repo, repo_cover = (f"arn:aws:ecr:{region}:{account}:repository/{name}"
                        for name in (names.repository, names.repository_pattern))
    group, group_cover = (f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{name}"
                          for name in (names.project, names.project_pattern))
    key_cover = names.context_pattern
    why_log = f"{route} logs to /aws/codebuild/{names.project}"
    needs = [("imagebuild", action, repo, None, f"{route} pushes to {names.repository}", repo_cover)
             for action in ("ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                            "ecr:CompleteLayerUpload", "ecr:PutImage")]
    needs += [
        ("imagebuild", "ecr:GetAuthorizationToken", "*", None, f"{route} logs in to ECR"),
        ("imagebuild", "s3:GetObject", f"arn:aws:s3:::{bucket}/{names.context_key}", None,
         f"{route} reads its build context s3://{bucket}/{names.context_key}",
         f"arn:aws:s3:::{bucket}/{key_cover}"),
        ("imagebuild", "logs:CreateLogGroup", group, None, why_log, group_cover)]
    needs += [("imagebuild", action, f"{group}:log-stream:0f6c2d1e-build", None, why_log,
               f"{group_cover}:*") for action in ("logs:CreateLogStream", "logs:PutLogEvents")]
    return needs


# --- 6. Dockerfiles -----------------------------------------------------------------------------

def _check_dockerfile(context: Path) -> list[Problem]:
    try:
        warnings = dockerfile_warnings(context)
    except SmliftError as exc:  # smlift build would refuse it too: say so, without failing
        return [Problem(exc.where or str(context), exc.message, exc.fix or "", "warning")]
    return [Problem(w.where, w.message, w.fix, "warning") for w in warnings]
