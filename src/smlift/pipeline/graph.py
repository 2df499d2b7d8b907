"""`smlift graph`: draw a state machine as Mermaid (GitHub renders it) or Graphviz dot.

    draw(definition, "mermaid") -> text

`graph_of` turns the definition into nodes and edges once: `Next`/`Default`/Choice transitions,
`End` to a finish node, every retrier as a self-loop labelled with its errors and attempts, and
every catcher as a dashed edge labelled with its errors. Parallel branches and Map processors
become subgraphs whose states are prefixed by their parent's id. The two renderers only format
that list (`RENDERERS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import DefinitionError

START, FINISH = "smlift_start", "smlift_finish"


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    type: str
    detail: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # next, choice, retry, catch, branch
    label: str = ""


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    groups: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (id, label, node ids)


def graph_of(definition: Any) -> Graph:
    """Nodes and edges of a definition (a dict); DefinitionError when it has no States."""
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        raise DefinitionError("the definition has no States object to draw", where="/States",
                              fix="pass a state machine definition (statemachine/definition.asl.json)")
    graph = Graph(nodes=[Node(START, "start", "Start"), Node(FINISH, "end", "End")])
    first = _add_machine(graph, definition, prefix="", end_target=FINISH)
    graph.edges.insert(0, Edge(START, first, "next"))
    return graph


def _node_id(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _unique_ids(graph: Graph, prefix: str, names) -> dict[str, str]:
    """State name -> node id; names that sanitise alike ("a b", "a_b") get a numbered suffix."""
    used = {node.id for node in graph.nodes}
    ids = {}
    for name in names:
        candidate, count = _node_id(prefix, name), 1
        while candidate in used:
            count += 1
            candidate = f"{_node_id(prefix, name)}_{count}"
        used.add(candidate)
        ids[name] = candidate
    return ids


def _add_machine(graph: Graph, machine: dict, prefix: str, end_target: str) -> str:
    states = machine.get("States") or {}
    ids = _unique_ids(graph, prefix, states)
    for name, state in states.items():
        if isinstance(state, dict):
            _add_state(graph, name, state, ids, prefix, end_target)
    start = machine.get("StartAt")
    return ids.get(start, _node_id(prefix, str(start)))


def _add_state(graph: Graph, name: str, state: dict, ids: dict, prefix: str, end_target: str) -> None:
    node = ids[name]
    kind = str(state.get("Type", "?"))
    graph.nodes.append(Node(node, name, kind, _detail(state)))

    def target(other: Any) -> str:
        return ids.get(other) or _node_id(prefix, f"{other}")

    if state.get("Next") is not None:
        graph.edges.append(Edge(node, target(state["Next"]), "next"))
    if end_target and (state.get("End") is True or kind == "Succeed"):
        graph.edges.append(Edge(node, end_target, "next"))
    for index, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, dict) and "Next" in rule:
            graph.edges.append(Edge(node, target(rule["Next"]), "choice", _rule_label(rule, index)))
    if "Default" in state:
        graph.edges.append(Edge(node, target(state["Default"]), "choice", "Default"))
    for retrier in state.get("Retry") or []:
        if isinstance(retrier, dict):
            graph.edges.append(Edge(node, node, "retry", _retry_label(retrier)))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict):
            errors = ", ".join(catcher.get("ErrorEquals") or [])
            graph.edges.append(Edge(node, target(catcher.get("Next")), "catch", f"catch: {errors}"))
    _add_children(graph, node, name, state)


def _add_children(graph: Graph, node: str, name: str, state: dict) -> None:
    machines = [(f"branch {i + 1}", b) for i, b in enumerate(state.get("Branches") or [])]
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if processor:
        machines.append(("each item", processor))
    for index, (label, machine) in enumerate(machines):
        if not isinstance(machine, dict):
            continue
        before = len(graph.nodes)
        group_prefix = f"{node}__{index}_"
        first = _add_machine(graph, machine, group_prefix, end_target="")
        members = [n.id for n in graph.nodes[before:]]
        graph.groups.append((f"{node}__{index}", f"{name}: {label}", members))
        graph.edges.append(Edge(node, first, "branch", label))


def _detail(state: dict) -> str:
    resource = state.get("Resource")
    if isinstance(resource, str):
        return resource.rsplit(":::", 1)[-1] if ":::" in resource else resource.rsplit(":", 1)[-1]
    return ""


def _retry_label(retrier: dict) -> str:
    errors = ", ".join(retrier.get("ErrorEquals") or [])
    attempts = retrier.get("MaxAttempts", 3)
    interval = retrier.get("IntervalSeconds", 1)
    backoff = retrier.get("BackoffRate", 2.0)
    return f"retry {errors} x{attempts} ({interval}s, backoff {backoff:g})"


def _rule_label(rule: dict, index: int) -> str:
    if "Condition" in rule:
        return str(rule["Condition"]).removeprefix("{%").removesuffix("%}").strip()
    variable = rule.get("Variable", "")
    operator = next((k for k in rule if k not in ("Variable", "Next", "Comment", "Assign", "Output")), "")
    return f"{variable} {operator} {rule.get(operator, '')}".strip() or f"rule {index + 1}"


# --- Mermaid ------------------------------------------------------------------------------------

MERMAID_SHAPES = {"Task": ('["', '"]'), "Pass": ('(["', '"])'), "Choice": ('{"', '"}'),
                  "Wait": ('{{"', '"}}'), "Parallel": ('[["', '"]]'), "Map": ('[["', '"]]'),
                  "Succeed": ('((("', '")))'), "Fail": ('((("', '")))'),
                  "Start": ('(("', '"))'), "End": ('(("', '"))')}
MERMAID_ARROWS = {"next": "-->", "choice": "-->", "branch": "-->", "retry": "-.->", "catch": "-.->"}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]
    grouped = {member for _, _, members in graph.groups for member in members}
    for node in graph.nodes:
        if node.id not in grouped:
            lines.append("    " + _mermaid_node(node))
    for group_id, label, members in graph.groups:
        lines.append(f'    subgraph {group_id}["{_mermaid_text(label)}"]')
        lines += ["        " + _mermaid_node(n) for n in graph.nodes if n.id in members]
        lines.append("    end")
    for edge in graph.edges:
        arrow = MERMAID_ARROWS.get(edge.kind, "-->")
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    lines.append("    classDef fail fill:#fde2e1,stroke:#c0392b")
    failing = [n.id for n in graph.nodes if n.type == "Fail"]
    if failing:
        lines.append(f"    class {','.join(failing)} fail")
    return "\n".join(lines) + "\n"


def _mermaid_node(node: Node) -> str:
    opening, closing = MERMAID_SHAPES.get(node.type, ('["', '"]'))
    text = _mermaid_text(node.name)
    if node.type not in ("Start", "End"):
        kind = f"{node.type}: {node.detail}" if node.detail else node.type
        text += f"<br/>{_mermaid_text(kind)}"
    return f"{node.id}{opening}{text}{closing}"


# --- Graphviz dot -------------------------------------------------------------------------------

DOT_SHAPES = {"Task": "box", "Pass": "box", "Choice": "diamond", "Wait": "hexagon",
              "Parallel": "box3d", "Map": "box3d", "Succeed": "doublecircle",
              "Fail": "doublecircle", "Start": "circle", "End": "circle"}
DOT_EDGES = {"next": "", "choice": "", "branch": ' style="bold"',
             "retry": ' style="dotted" color="#7f8c8d"', "catch": ' style="dashed" color="#c0392b"'}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(graph: Graph) -> str:
    lines = ["digraph statemachine {", "    rankdir=TB;",
             '    node [fontname="Helvetica" style="rounded"];',
             '    edge [fontname="Helvetica" fontsize=10];']
    grouped = {member for _, _, members in graph.groups for member in members}
    lines += ["    " + _dot_node(node) for node in graph.nodes if node.id not in grouped]
    for group_id, label, members in graph.groups:
        lines.append(f'    subgraph "cluster_{group_id}" {{ label="{_dot_text(label)}";')
        lines += ["        " + _dot_node(n) for n in graph.nodes if n.id in members]
        lines.append("    }")
    for edge in graph.edges:
        label = f' label="{_dot_text(edge.label)}"' if edge.label else ""
        lines.append(f'    "{edge.source}" -> "{edge.target}" [{(label + DOT_EDGES.get(edge.kind, "")).strip()}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: Node) -> str:
    label = _dot_text(node.name)
    if node.type not in ("Start", "End"):
        kind = f"{node.type}: {node.detail}" if node.detail else node.type
        label += "\\n" + _dot_text(kind)
    color = ' color="#c0392b"' if node.type == "Fail" else ""
    shape = DOT_SHAPES.get(node.type, "box")
    return f'"{node.id}" [label="{label}" shape={shape}{color}];'


RENDERERS = {"mermaid": to_mermaid, "dot": to_dot}


def draw(definition: Any, fmt: str = "mermaid") -> str:
    """The definition drawn in `fmt` (`mermaid` or `dot`)."""
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise DefinitionError(f"unknown graph format {fmt!r}", where="--format",
                              fix=f"use one of {', '.join(RENDERERS)}")
    return renderer(graph_of(definition))
