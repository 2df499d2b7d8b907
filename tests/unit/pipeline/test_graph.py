"""graph_of / draw: every transition, Retry and Catch of a definition, in Mermaid and dot."""

import pytest

from smlift.errors import DefinitionError
from smlift.pipeline.graph import FINISH, START, draw, graph_of


def edges(definition, kind):
    return {(e.source, e.target, e.label) for e in graph_of(definition).edges if e.kind == kind}


def test_the_pipeline_has_its_chain_and_a_retry_and_catch_per_step(definition):
    nexts = {(s, t) for s, t, _ in edges(definition, "next")}
    assert nexts == {(START, "Prepare"), ("Prepare", "Preprocess"), ("Preprocess", "Predict"),
                     ("Predict", "Postprocess"), ("Postprocess", "Summarize"),
                     ("Summarize", FINISH)}
    catches = edges(definition, "catch")
    assert catches == {(step, "PipelineFailed", "catch: States.ALL")
                       for step in ("Preprocess", "Predict", "Postprocess", "Summarize")}
    retries = edges(definition, "retry")
    assert ("Predict", "Predict",
            "retry SageMaker.ResourceLimitExceededException x5 (60s, backoff 2)") in retries
    assert len(retries) == 4  # one retrier per step: capacity only


def test_mermaid_draws_retry_and_catch_as_dotted_edges(definition):
    text = draw(definition, "mermaid")
    assert text.startswith("flowchart TD\n")
    assert '    Predict -.->|"catch: States.ALL"| PipelineFailed' in text
    assert ('    Predict -.->|"retry SageMaker.ResourceLimitExceededException x5 (60s, backoff 2)"| '
            'Predict') in text
    assert "    Preprocess --> Predict" in text
    assert 'PipelineFailed((("PipelineFailed<br/>Fail")))' in text


def test_dot_draws_catch_dashed_and_retry_dotted(definition):
    text = draw(definition, "dot")
    assert text.startswith("digraph statemachine {") and text.rstrip().endswith("}")
    assert '"Predict" -> "PipelineFailed" [label="catch: States.ALL" style="dashed" color="#c0392b"];' in text
    assert '"Predict" -> "Predict" [label="retry SageMaker.ResourceLimitExceededException x5 (60s, backoff 2)" ' \
           'style="dotted" color="#7f8c8d"];' in text


def test_choice_rules_and_default_are_labelled():
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
              "Default": "Small"},
        "Big": {"Type": "Succeed"}, "Small": {"Type": "Fail", "Error": "E"}}}
    assert edges(definition, "choice") == {("C", "Big", "$.n NumericGreaterThan 1"), ("C", "Small", "Default")}


def test_parallel_branches_become_subgraphs_with_prefixed_ids():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}]}}}
    graph = graph_of(definition)
    assert [(g[1], g[2]) for g in graph.groups] == [("P: branch 1", ["P__0_A"]), ("P: branch 2", ["P__1_A"])]
    assert "subgraph P__0" in draw(definition) and 'subgraph "cluster_P__1"' in draw(definition, "dot")


def test_names_with_quotes_and_spaces_are_escaped():
    definition = {"StartAt": 'say "hi"', "States": {'say "hi"': {"Type": "Pass", "End": True}}}
    assert 'say__hi_(["say #quot;hi#quot;<br/>Pass"])' in draw(definition)
    assert '"say__hi_" [label="say \\"hi\\"\\nPass" shape=box];' in draw(definition, "dot")


def test_names_that_sanitise_alike_get_distinct_ids():
    definition = {"StartAt": "a b", "States": {"a b": {"Type": "Pass", "Next": "a_b"},
                                               "a_b": {"Type": "Pass", "End": True}}}
    assert {(e.source, e.target) for e in graph_of(definition).edges if e.kind == "next"} == {
        (START, "a_b"), ("a_b", "a_b_2"), ("a_b_2", FINISH)}


def test_a_document_without_states_is_refused():
    with pytest.raises(DefinitionError, match="no States"):
        graph_of({"StartAt": "A"})


def test_an_unknown_format_is_refused(definition):
    with pytest.raises(DefinitionError, match="unknown graph format 'svg'"):
        draw(definition, "svg")
