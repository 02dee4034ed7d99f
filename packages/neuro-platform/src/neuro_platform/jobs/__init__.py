"""Jobs: the service behind `API/jobs` (wire spec 3) and the scheduler that runs them."""
