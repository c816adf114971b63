"""Studio routes: api_inbox (being built; see docs/studio.md)."""

from __future__ import annotations

from sanic import Sanic


def register(app: Sanic) -> None:
    """Add this part's routes to the handoff app (app.ctx.studio holds the StudioSettings)."""
