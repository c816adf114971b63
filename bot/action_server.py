"""`python -m bot.action_server`: rasa-sdk's action server, reachable only by Rasa.

rasa-sdk has no authentication: anyone who reaches its port can run `action_handoff` for any
conversation id and copy that conversation into a ticket. Here the same app (rasa_sdk.endpoint.create_app)
refuses every request but /health without the header `X-Action-Token: $ACTION_SERVER_TOKEN`, which Rasa
sends (endpoints.yml `action_endpoint.headers`; Rasa expands `${VAR}` only as a whole value, hence a header
of its own rather than `Authorization: Bearer …`), and listens on ACTION_SERVER_HOST (default 127.0.0.1).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from typing import Optional, Text

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/health"})


TOKEN_HEADER = "X-Action-Token"


def protect(app: Sanic, token: Text) -> Sanic:
    """Refuse every request but OPEN_PATHS without the token (401, nothing run)."""
    if not token:
        raise ValueError(f"{TOKEN_VARIABLE} is empty: the action server would be open to anyone")
    expected = token.encode("utf-8")

    @app.on_request
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get(TOKEN_HEADER) or "").strip()
        if hmac.compare_digest(given.encode("utf-8", "replace"), expected):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    return app


def create_app(token: Text, actions: Text = "actions") -> Sanic:
    """rasa-sdk's app for the actions package, behind the token."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    return protect(create_sdk_app(actions, cors_origins=[]), token)


def main() -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    app = create_app(os.environ.get(TOKEN_VARIABLE, ""), args.actions)
    workers = int(os.environ.get("ACTION_SERVER_SANIC_WORKERS", "1"))
    logger.info("Action server on http://%s:%s (token required)", args.host, args.port)
    app.run(args.host, args.port, workers=workers, access_log=False)


if __name__ == "__main__":
    main()
