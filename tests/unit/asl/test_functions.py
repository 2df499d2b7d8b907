"""The function cores that intrinsics and JSONata share: both languages give the same answers."""

import hashlib

import pytest

from smlift.asl.functions import (HASH_ALGORITHMS, MAX_RANGE_ITEMS, hash_hex, inclusive_range,
                                  is_integral, partition, random_source)
from smlift.asl.intrinsics import evaluate_intrinsic
from smlift.asl.jsonata import evaluate_expression
from smlift.errors import StatesError


def intrinsic(expression):
    return evaluate_intrinsic(expression, {})


def jsonata(expression):
    return evaluate_expression("{% " + expression + " %}", {"states": {}}, field="Output")


@pytest.mark.parametrize("algorithm", sorted(HASH_ALGORITHMS))
def test_both_languages_hash_alike_with_every_algorithm(algorithm):
    expected = hashlib.new(HASH_ALGORITHMS[algorithm], "é".encode()).hexdigest()
    assert hash_hex("é", algorithm) == expected
    assert intrinsic(f"States.Hash('é', '{algorithm}')") == expected
    assert jsonata(f"$hash('é', '{algorithm}')") == expected


def test_both_languages_partition_and_range_alike():
    assert partition([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert intrinsic("States.ArrayPartition(States.Array(1, 2, 3, 4, 5), 2)") == \
        jsonata("$partition([1, 2, 3, 4, 5], 2)") == [[1, 2], [3, 4], [5]]
    assert list(inclusive_range(1, 9, 4)) == [1, 5, 9]
    assert intrinsic("States.ArrayRange(10, 1, -3)") == jsonata("$range(10, 1, -3)") == \
        [10, 7, 4, 1]


def test_both_languages_refuse_a_range_past_the_limit():
    assert len(inclusive_range(1, MAX_RANGE_ITEMS, 1)) == MAX_RANGE_ITEMS
    assert len(intrinsic(f"States.ArrayRange(1, {MAX_RANGE_ITEMS}, 1)")) == MAX_RANGE_ITEMS
    for evaluate, call in ((intrinsic, "States.ArrayRange(0, 10000000000, 1)"),
                           (jsonata, "$range(0, 10000000000, 1)")):
        with pytest.raises(StatesError, match=f"at most {MAX_RANGE_ITEMS} items"):
            evaluate(call)


def test_a_seed_gives_the_same_numbers_and_integers_exclude_booleans():
    assert random_source(7).random() == random_source(7).random()
    assert [is_integral(v) for v in (2, 2.0, 2.5, True, "2", None)] == \
        [True, True, False, False, False, False]
