"""`/api/v1/config` and `/api/v1/ping`: what a client learns before it logs in."""
