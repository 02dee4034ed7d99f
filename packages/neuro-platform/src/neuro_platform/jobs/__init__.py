"""Jobs: the service behind `API/jobs` (docs/protocol.md §3) and the scheduler that runs them."""
