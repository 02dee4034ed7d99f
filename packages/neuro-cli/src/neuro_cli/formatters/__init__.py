"""Turning SDK objects into rich renderables; commands never format output themselves."""
