"""The engine's clocks and AWS's timestamp formats."""

from __future__ import annotations

import threading
import time

import pytest

from smlift.asl.clock import Clock, RealClock, VirtualClock
from smlift.asl.context import iso_timestamp, parse_timestamp


def test_virtual_clock_advances_instantly_and_records_each_sleep():
    clock = VirtualClock(start=100.0)
    started = time.monotonic()
    assert clock.sleep(3600) is False
    clock.sleep(0.5)
    assert time.monotonic() - started < 1
    assert clock.now() == 3700.5 and clock.sleeps == [3600, 0.5]


def test_real_clock_sleep_ends_early_when_cancelled():
    cancel = threading.Event()
    threading.Timer(0.05, cancel.set).start()
    started = time.monotonic()
    assert RealClock().sleep(30, cancel) is True
    assert time.monotonic() - started < 5


def test_iso_timestamp_has_milliseconds_and_z():
    assert iso_timestamp(1_704_067_200.1234) == "2024-01-01T00:00:00.123Z"


@pytest.mark.parametrize("text, seconds", [
    ("2016-03-14T01:59:00Z", 1457920740.0),
    ("2016-03-14T02:59:00+01:00", 1457920740.0),
    ("2016-03-14T01:59:00.5Z", 1457920740.5),
    ("2016-03-05T21:29:29.243167252Z", 1457213369.243167252),
])
def test_parse_timestamp_accepts_iso_8601_with_an_offset(text, seconds):
    assert parse_timestamp(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["2016-12-05T21:29:29", "2016-12-05 21:29:29Z",
                                  "2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z",
                                  "05-12-2016T21:29:29Z", 17])
def test_parse_timestamp_refuses_what_aws_refuses(text):
    assert parse_timestamp(text) is None


def test_both_clocks_have_every_method_of_the_clock_interface():
    methods = sorted(name for name in vars(Clock) if not name.startswith("_"))
    assert methods == ["monotonic", "now", "sleep"]
    for clock in (RealClock(), VirtualClock()):
        assert all(callable(getattr(clock, name, None)) for name in methods)
