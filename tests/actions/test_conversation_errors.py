"""A failing tracker API call is logged without Rasa's token (it travels in the URL)."""

import logging

from aiohttp import web
from rasa_sdk import Tracker

from actions.conversation import HISTORY_FROM_METADATA, whole_conversation

TOKEN = "rasa-api-token-secret"


async def test_a_rasa_error_is_logged_without_the_token(monkeypatch, caplog):
    async def refuse(request):
        assert request.query["token"] == TOKEN
        return web.json_response({"error": "boom"}, status=500)

    app = web.Application()
    app.router.add_get("/conversations/{sender}/tracker", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RASA_AUTH_TOKEN", TOKEN)
    events = [{"event": "user", "text": "hi", "metadata": {HISTORY_FROM_METADATA: 4}}]
    tracker = Tracker("c1", {}, {}, events, False, None, {}, "action_listen")
    try:
        with caplog.at_level(logging.ERROR):
            assert await whole_conversation(tracker) == events  # the window alone
    finally:
        await runner.cleanup()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP 500" in logged and TOKEN not in logged
