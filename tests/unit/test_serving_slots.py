"""A local serverless endpoint's MaxConcurrency: `ConcurrencySlots` lets that many invocations
hold a slot at once, refuses one more at once (ThrottlingException, 429), and frees a slot when
its holder ends."""

import pytest

from smlift.serving import EndpointThrottled
from smlift.serving.local import ConcurrencySlots


def test_one_more_than_the_limit_is_throttled_and_a_freed_slot_is_reused(tmp_path):
    slots = ConcurrencySlots(tmp_path / "slots", 2)
    with slots.take("hotel"), slots.take("hotel"):
        with pytest.raises(EndpointThrottled, match="2 invocation\\(s\\) already in flight") as refused:
            with slots.take("hotel"):
                pass
        assert (refused.value.code, refused.value.status) == ("ThrottlingException", 429)
        assert refused.value.fix.startswith("retry with backoff")
    with slots.take("hotel"), slots.take("hotel"):
        pass


def test_a_slot_is_freed_when_the_invocation_fails(tmp_path):
    slots = ConcurrencySlots(tmp_path / "slots", 1)
    with pytest.raises(RuntimeError):
        with slots.take("hotel"):
            raise RuntimeError("the server went away")
    with slots.take("hotel"):
        pass


def test_without_a_limit_nothing_is_counted(tmp_path):
    slots = ConcurrencySlots(tmp_path / "slots", None)
    with slots.take("hotel"), slots.take("hotel"):
        pass
    assert not (tmp_path / "slots").exists()
