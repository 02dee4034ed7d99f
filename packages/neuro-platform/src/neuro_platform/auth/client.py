"""The one OAuth client the platform knows: the `neuro` CLI (docs/protocol.md §2.2)."""

from __future__ import annotations

CLIENT_ID = "neuro-cli"
# Where the CLI listens for the authorization code on the user's machine.
CALLBACK_URLS = [f"http://127.0.0.1:{port}" for port in (54540, 54541, 54542)]
