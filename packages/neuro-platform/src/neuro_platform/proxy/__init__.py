"""HTTP exposure: a job's HTTP port behind the platform, at `<job>.<[jobs] http_domain>`."""
