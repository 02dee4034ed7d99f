"""HTTP exposure: a job's HTTP port behind the platform, at `<public url>/jobs-http/<job>/`."""
