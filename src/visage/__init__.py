"""Visage: face recognition platform for gyms, clubs and event organizers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("visage")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
