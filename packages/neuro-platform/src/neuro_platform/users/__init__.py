"""The users API (`/api/v1/users`): permissions, sharing and roles over HTTP."""
