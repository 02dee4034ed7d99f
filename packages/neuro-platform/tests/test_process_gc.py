"""The server's garbage-collector settings (process_gc.py): start-up frozen out of
collections, young collections less often (not within a listing's pages), and cycles still
collected."""

import gc
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic_core import to_json

from neuro_platform.jobs.codec import encode_spec, encode_status
from neuro_platform.jobs.entities import (
    MIB,
    Container,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.repository import PAGE, _decode_listed
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


def test_two_pages_of_a_listing_stay_below_the_young_threshold() -> None:
    """A listing holds a page of rows and decoded jobs at once, and reads the next page
    meanwhile: that must not set off a young collection, which would promote objects that
    die a moment later and so set off full collections, which walk every cached job."""
    now = datetime.now(UTC)
    spec = JobSpec(
        Container(
            image="neuro-base/busybox:latest",
            command="true",
            resources=Resources(cpu=0.1, memory=64 * MIB),
        ),
        preset_name="cpu-small",
    )
    statuses = (
        StatusItem(JobStatus.PENDING, now, reason="Creating"),
        StatusItem(JobStatus.PENDING, now, reason="Scheduling"),
        StatusItem(JobStatus.CANCELLED, now),
    )
    spec_json = to_json(encode_spec(spec)).decode()
    statuses_json = to_json([encode_status(s) for s in statuses]).decode()
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        rows = [
            (f"job-{n}", "alice", "default", None, now, spec_json, statuses_json, 0, False)
            for n in range(PAGE)
        ]
        page = _decode_listed(rows, [None] * PAGE)  # type: ignore[arg-type]
        held = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert len(page) == PAGE
    assert 2 * held < YOUNG_OBJECTS
