"""The app's settings read from the environment: a bad value is an error naming the variable."""

from __future__ import annotations

import pytest

from qualkit.app import resources
from qualkit.errors import QualkitError


def test_the_queue_settle_time_is_600_ms_unless_set(monkeypatch):
    monkeypatch.delenv("QUALKIT_QUEUE_SETTLE_MS", raising=False)
    assert resources.settle_ms() == 600
    monkeypatch.setenv("QUALKIT_QUEUE_SETTLE_MS", " 1500 ")
    assert resources.settle_ms() == 1500


def test_a_settle_time_that_is_not_milliseconds_names_the_variable(monkeypatch):
    monkeypatch.setenv("QUALKIT_QUEUE_SETTLE_MS", "0.5s")
    with pytest.raises(QualkitError, match=r"QUALKIT_QUEUE_SETTLE_MS='0\.5s' is not a whole number"):
        resources.settle_ms()
