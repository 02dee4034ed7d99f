"""The shared HTTP layer every slice builds on: typed keys, the error mapping, request
validation, the OpenAPI document, the access log, the cluster URL prefix and HTML pages.

It imports no slice: `app.py` mounts the slices and `composition.py` builds their services.
"""
