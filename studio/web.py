"""Mounts the content studio on the handoff service's Sanic app."""

from __future__ import annotations

from sanic import Sanic

from studio import api_content, api_inbox, api_models, api_report, pages
from studio.settings import StudioSettings

STUDIO_API_PREFIX = "/studio/api/"
STUDIO_IMPORT_PREFIX = "/studio/api/import/"
# an XLSX/CSV of every FAQ topic and promotion (today about 40 KB)
STUDIO_IMPORT_MAX_BYTES = 5 * 1024 * 1024


def register(app: Sanic, settings: StudioSettings) -> None:
    """The studio pages (/studio…), its API (/studio/api/…, content tokens) and the internal
    NLG and model-server endpoints (/internal/…, service token)."""
    app.ctx.studio = settings
    for part in (api_content, api_models, api_inbox, api_report, pages):
        part.register(app)
