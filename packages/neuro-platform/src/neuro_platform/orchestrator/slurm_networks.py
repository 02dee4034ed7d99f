"""The platform's networks on a Slurm cluster: one address slot per network (per owner,
jobs/job_networks.py), and which slots each job admits (docs/scale-out.md, "Network
isolation between users' jobs").

A slot `s` (1..254) is the same on every node: the node puts the containers of that
network's jobs in `<node net>.s.0/24` (slurm_script), so an address's third octet says whose
job it is wherever it runs, and a container admits other jobs only from its own slot and
the slots in its job's `readers` file (those of the users it is shared with). Slots are
cluster-wide, shared by every platform process and instance using the cluster: a slot is
the file `<shared>/networks/slot-<s>` holding `<instance> <network>`, made with O_EXCL, so
two never get the same one.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import OrchestratorError

SLOTS = range(1, 255)  # an address's third octet, less the network and broadcast ones
_PREFIX = "slot-"


class SlurmNetworks:
    def __init__(self, shared_dir: Path, instance: str) -> None:
        self._dir = shared_dir / "networks"
        self._instance = instance
        self._slots: dict[str, int] = {}  # known to be ours

    def ensure(self, name: str) -> int:
        """The network's slot, taken now unless it has one."""
        if name in self._slots:
            return self._slots[name]
        owners = self._owners()  # read once: whether it has a slot, and which are taken
        if (slot := self._known(name, owners)) is not None:
            return slot
        self._dir.mkdir(parents=True, exist_ok=True)
        taken = set(owners)
        for slot in SLOTS:
            if slot in taken:
                continue
            try:
                fd = os.open(self._dir / f"{_PREFIX}{slot}", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            except FileExistsError:  # taken meanwhile, by another process
                continue
            with os.fdopen(fd, "w") as file:
                file.write(f"{self._instance} {name}\n")
            self._slots[name] = slot
            return slot
        raise OrchestratorError(f"All {len(SLOTS)} network slots of the cluster are in use")

    def slot(self, name: str) -> int | None:
        if name in self._slots:
            return self._slots[name]
        return self._known(name, self._owners())

    def _known(self, name: str, owners: dict[int, tuple[str, str]]) -> int | None:
        """The slot `owners` give the network (remembered from now on), if any."""
        for slot, owner in owners.items():
            if owner == (self._instance, name):
                self._slots[name] = slot
        return self._slots.get(name)

    def remove(self, name: str) -> None:
        slot = self.slot(name)
        if slot is not None:
            (self._dir / f"{_PREFIX}{slot}").unlink(missing_ok=True)
            del self._slots[name]

    def list(self) -> list[str]:
        return [name for instance, name in self._owners().values() if instance == self._instance]

    def _owners(self) -> dict[int, tuple[str, str]]:
        owners = {}
        for path in self._dir.glob(f"{_PREFIX}*"):
            instance, _, name = _read(path).strip().partition(" ")
            if path.name.removeprefix(_PREFIX).isdigit() and name:
                owners[int(path.name.removeprefix(_PREFIX))] = (instance, name)
        return owners


def release_instance_slots(shared_dir: Path, instance: str) -> None:
    """Free every slot of `instance` (a test's clean-up: its platform is gone)."""
    for path in (shared_dir / "networks").glob(f"{_PREFIX}*"):
        if _read(path).partition(" ")[0] == instance:
            path.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:  # freed since the listing
        return ""


def admit(readers_file: Path, slot: int, *, admitted: bool) -> None:
    """Add `slot` to (or drop it from) a job's readers; the job's node applies the change."""
    try:
        slots = {int(line) for line in readers_file.read_text().split()}
    except FileNotFoundError:
        slots = set()
    wanted = slots | {slot} if admitted else slots - {slot}
    if wanted == slots and readers_file.exists():
        return
    partial = readers_file.with_name(readers_file.name + ".tmp")
    partial.write_text("".join(f"{s}\n" for s in sorted(wanted)))
    partial.replace(readers_file)  # whole or not at all: the node reads it any time
