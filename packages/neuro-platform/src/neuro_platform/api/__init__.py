"""The aiohttp application: HTTP handlers, thin, over the services."""
