"""A small client of slurmrestd (`openapi/v0.0.38`, Debian's Slurm 22.05) over its unix socket.

Authentication is Slurm's JWT (`auth/jwt`): every request names the Slurm user and carries a
token for it (`scontrol token username=...`). The token file is read again on every request,
so an operator can rotate it without restarting the platform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from .errors import OrchestratorError

API = "/slurm/v0.0.38"


class SlurmRestError(OrchestratorError):
    pass


class SlurmRest:
    def __init__(self, socket: Path, token_file: Path, user: str) -> None:
        self._token_file = token_file
        self._user = user
        self._session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(socket)),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def close(self) -> None:
        await self._session.close()

    async def submit(self, script: str, job: dict[str, Any]) -> int:
        answer = await self._request("POST", "/job/submit", json={"script": script, "job": job})
        return int(answer["job_id"])

    async def job(self, slurm_id: int) -> dict[str, Any] | None:
        """The job's record; None when slurmctld no longer knows it (past MinJobAge)."""
        answer = await self._request("GET", f"/job/{slurm_id}", missing_ok=True)
        jobs = answer.get("jobs") or []
        return dict(jobs[0]) if jobs else None

    async def node_address(self, node: str) -> str | None:
        answer = await self._request("GET", f"/node/{node}", missing_ok=True)
        nodes = answer.get("nodes") or []
        return str(nodes[0].get("address") or "") or None if nodes else None

    async def signal(self, slurm_id: int, signal: str) -> None:
        """Send `signal` (e.g. "SIGTERM"; SIGKILL ends the job) to the job's batch shell."""
        await self._request("DELETE", f"/job/{slurm_id}", params={"signal": signal})

    async def _request(
        self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {
            "X-SLURM-USER-NAME": self._user,
            "X-SLURM-USER-TOKEN": self._token(),
        }
        try:
            async with self._session.request(
                method, f"http://slurmrestd{API}{path}", headers=headers, **kwargs
            ) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
                if not isinstance(answer, dict):
                    answer = {}
                errors = answer.get("errors") or []
                if response.status >= 400 or errors:
                    if missing_ok and _is_missing(errors):
                        return {}
                    detail = "; ".join(
                        str(e.get("error") or e.get("description") or e) for e in errors
                    )
                    raise SlurmRestError(
                        f"slurmrestd {method} {path}: {response.status} {detail}".rstrip()
                    )
                return answer
        except aiohttp.ClientError as error:
            raise SlurmRestError(f"slurmrestd unreachable: {error}") from error

    def _token(self) -> str:
        try:
            return self._token_file.read_text().strip()
        except OSError as error:
            raise SlurmRestError(f"cannot read the Slurm token: {error}") from error


def _is_missing(errors: list[Any]) -> bool:
    """Slurm's "Invalid job id specified" (error 2017), or an unknown node: anything else
    (a busy slurmctld, an empty 500) is an error, never taken for a job that is gone."""
    text = " ".join(str(e) for e in errors).lower()
    return "invalid job id" in text or "2017" in text or "unable to query node" in text
