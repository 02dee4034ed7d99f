"""The server's GIL switch interval (process_gil.py): shorter than CPython's default, so the
event loop waits less for the threads that decode and encode listings."""

import sys
from collections.abc import Iterator

import pytest

from neuro_platform.process_gil import SWITCH_INTERVAL_S, hand_the_gil_over_often


@pytest.fixture
def restored_interval() -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("restored_interval")
def test_the_server_hands_the_gil_over_every_millisecond() -> None:
    sys.setswitchinterval(0.005)

    hand_the_gil_over_often()

    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    assert SWITCH_INTERVAL_S < 0.005
