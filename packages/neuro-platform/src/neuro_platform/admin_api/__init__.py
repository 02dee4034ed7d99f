"""The admin API (docs/protocol.md §2.7): cluster users, orgs, org users, org clusters, and
their quotas and credits, at `admin_url` (`/api/v1/admin`)."""
