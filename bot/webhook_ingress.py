"""The webhook ingress: one light process that acknowledges Messenger's and Zalo's webhooks.

`python -m bot.webhook_ingress` serves the channels' own intakes (bot/channels/messenger_intake.py,
bot/channels/zalo_intake.py) at their usual URLs, /webhooks/facebook/… and /webhooks/zalo/…: it checks the
signature, de-duplicates by message id and appends the event to the channel's Redis stream, and answers.
The consumers in the Rasa processes run the turns (bot/channels/webhook_queue.py). Its acknowledgements do
not wait behind the Rasa processes' TensorFlow turns, and it imports neither Rasa nor TensorFlow (about
40 MB instead of a Rasa process's 1 GB). nginx sends the two webhook paths here (bot/proxy.py,
deploy/nginx.conf); a Rasa process alone still answers them itself.

Environment: WEBHOOK_INGRESS_HOST (127.0.0.1), WEBHOOK_INGRESS_PORT (5070), REDIS_URL, FB_VERIFY_TOKEN,
FB_APP_SECRET, ZALO_APP_ID, ZALO_OA_SECRET_KEY (empty: that webhook refuses every request, as the channel
does), LOG_LEVEL (INFO); Sanic's own SANIC_* settings, e.g. SANIC_REAL_IP_HEADER=x-real-ip behind nginx.
`GET /health`: 200 with what each webhook queued since the start, 503 while Redis does not answer.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Mapping, Text

from redis.exceptions import RedisError
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import messenger_intake, zalo_intake
from bot.channels.messenger_intake import MessengerIntake
from bot.channels.webhook_intake import MAX_BODY_BYTES
from bot.channels.webhook_queue import WebhookQueue
from bot.channels.zalo_intake import ZaloIntake
from bot.channels.zalo_window import InteractionClock
from common.contracts import WEBHOOK_INGRESS_PORT
from common.privacy import logging_config

logger = logging.getLogger("bot.webhook_ingress")  # also when run as __main__

PORT_VARIABLE = "WEBHOOK_INGRESS_PORT"
HOST_VARIABLE = "WEBHOOK_INGRESS_HOST"


@dataclass(frozen=True)
class IngressSettings:
    """Where the ingress listens, its Redis, and the webhooks' secrets (empty: that webhook is off)."""

    host: Text = "127.0.0.1"
    port: int = WEBHOOK_INGRESS_PORT
    redis_url: Text = "redis://localhost:6379/0"
    fb_verify_token: Text = ""
    fb_app_secret: Text = ""
    zalo_app_id: Text = ""
    zalo_oa_secret_key: Text = ""

    @classmethod
    def from_env(cls, env: Mapping[Text, Text] = os.environ) -> "IngressSettings":
        """The settings from the environment (what the Rasa channels read through credentials.yml)."""
        return cls(
            host=env.get(HOST_VARIABLE) or cls.host,
            port=int(env.get(PORT_VARIABLE) or WEBHOOK_INGRESS_PORT),
            redis_url=env.get("REDIS_URL") or cls.redis_url,
            fb_verify_token=env.get("FB_VERIFY_TOKEN", ""),
            fb_app_secret=env.get("FB_APP_SECRET", ""),
            zalo_app_id=env.get("ZALO_APP_ID", ""),
            zalo_oa_secret_key=env.get("ZALO_OA_SECRET_KEY", ""),
        )


def create_app(
    settings: IngressSettings, name: Text = "senmart_webhook_ingress", log_config: Any = None
) -> Sanic:
    """The ingress app: both webhooks' routes, /health, the Redis clients closed when it stops."""
    fb_queue = WebhookQueue(settings.redis_url, messenger_intake.CHANNEL, messenger_intake.DEDUPE_PREFIX)
    messenger = MessengerIntake(settings.fb_verify_token, settings.fb_app_secret, fb_queue)
    zalo_queue = WebhookQueue(settings.redis_url, zalo_intake.CHANNEL, zalo_intake.DEDUPE_PREFIX)
    zalo = ZaloIntake(
        settings.zalo_app_id,
        settings.zalo_oa_secret_key,
        zalo_queue,
        InteractionClock(lambda: zalo_queue.redis),
    )
    app = Sanic(name, log_config=log_config) if log_config else Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES  # the intakes' own bound (413 past it)
    app.ctx.intakes = {messenger_intake.CHANNEL: messenger, zalo_intake.CHANNEL: zalo}
    app.blueprint(messenger.blueprint("senmart_facebook_webhook"), url_prefix="/webhooks/facebook")
    app.blueprint(zalo.blueprint("senmart_zalo_webhook"), url_prefix="/webhooks/zalo")

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        channels = {
            channel: {"configured": intake.configured, "accepted": intake.accepted}
            for channel, intake in app.ctx.intakes.items()
        }
        try:
            await fb_queue.redis.ping()
        except (RedisError, OSError):
            return response.json({"status": "redis unavailable", "channels": channels}, status=503)
        return response.json({"status": "ok", "channels": channels})

    @app.listener("after_server_start")
    async def say_what_is_on(app: Sanic, _loop: Any) -> None:
        for channel, intake in app.ctx.intakes.items():
            state = "on" if intake.configured else "off (refuses every request until configured)"
            logger.info("Webhook ingress: %s webhook %s.", channel, state)

    @app.listener("before_server_stop")
    async def close_clients(app: Sanic, _loop: Any) -> None:
        for intake in app.ctx.intakes.values():
            await intake.queue.stop()

    return app


def main() -> None:
    """Serve the ingress in this process (one Sanic worker) until SIGINT/SIGTERM."""
    settings = IngressSettings.from_env()
    level = os.environ.get("LOG_LEVEL") or "INFO"
    config = logging_config(level)
    config["loggers"]["bot"] = {"level": level, "handlers": ["console"], "propagate": False}
    app = create_app(settings, log_config=config)
    app.run(
        host=settings.host,
        port=settings.port,
        workers=1,
        access_log=False,
        backlog=1024,
        motd=False,
    )


if __name__ == "__main__":
    main()
