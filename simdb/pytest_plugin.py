"""simdb's pytest plugin. Imports nothing heavy until a fixture is used."""

from __future__ import annotations
