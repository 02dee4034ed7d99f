"""The server's garbage-collector settings (process_gc.py): start-up frozen out of
collections, young collections less often, and cycles still collected."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from neuro_platform.process_gc import YOUNG_OBJECTS, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_settling_freezes_start_up_and_spaces_out_young_collections() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    _, middle, old = gc.get_threshold()

    settle_heap()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_OBJECTS, middle, old)


class _Node:
    other: "_Node | None" = None


@pytest.mark.usefixtures("restored_gc")
def test_a_cycle_made_after_settling_is_still_collected() -> None:
    settle_heap()
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    del first, second
    assert alive() is not None  # a cycle: reference counting alone does not free it
    gc.collect()
    assert alive() is None
