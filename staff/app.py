"""The staff service's app, built in one place (the composition root).

It reads the settings once, owns the Redis client and the relay to Rasa, authenticates every request by
the route's audience (service token on /internal/*, agents on /api/*, content staff on /studio/api/*),
counts requests for /metrics, turns every exception into a JSON error, and mounts the handoff routes
(handoff/app.py) and the studio (studio/web.py). The event path is one way: Rasa → Redis stream → the
event consumer (tickets, profiles) → the listeners registered here (the studio's inbox).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional, Text

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Request, Sanic, response
from sanic.exceptions import MethodNotSupported, NotFound, PayloadTooLarge, SanicException
from sanic.response import HTTPResponse

from common.http import InvalidRequest, bearer_token, error
from common.privacy import logging_config
from handoff import app as handoff_routes
from handoff.event_consumer import EventConsumer
from handoff.hours import AgentHours, load_holidays
from handoff.lease_reaper import run_reaper
from handoff.relay import RasaRelay
from handoff.settings import HandoffSettings
from handoff.ticket_store import TicketStore
from studio import inbox as studio_inbox
from studio import web as studio_web
from studio.settings import StudioSettings

logger = logging.getLogger(__name__)


def create_app(
    settings: HandoffSettings,
    store: Optional[TicketStore] = None,
    relay: Optional[RasaRelay] = None,
    name: Text = "senmart_staff",
    background_tasks: bool = True,
    configure_logging: bool = True,
    studio_settings: Optional[StudioSettings] = None,
) -> Sanic:
    """Build the Sanic app; Redis, the relay and background tasks start with the server."""
    if configure_logging:
        app = Sanic(name, log_config=logging_config())
    else:  # embedded (tests): leave the host's logging alone
        app = Sanic(name, configure_logging=False)
    # spreadsheet imports (/studio/api/import/*) may be larger; every other route keeps max_body_bytes
    app.config.REQUEST_MAX_SIZE = max(
        settings.max_body_bytes, studio_web.STUDIO_IMPORT_MAX_BYTES, handoff_routes.INTERNAL_MAX_BYTES
    )
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 2.0
    hours = AgentHours.with_holidays(load_holidays(settings.holidays_file), settings.timezone_offset_hours)
    studio_settings = studio_settings or StudioSettings.from_env()
    app.ctx.settings = settings
    app.ctx.hours = hours
    app.ctx.store = store
    app.ctx.relay = relay
    app.ctx.tasks = []
    app.ctx.owns_redis = False

    # -- who hears what: the studio's inbox learns of deletions, and of every event of the stream ----
    # (Rasa's events and the tickets the handoff routes open, handoff/ticket_events.py)
    async def inbox_forgets(sender_id: Text) -> int:
        return await studio_inbox.inbox_for(app).forget_sender(sender_id)

    async def inbox_observes(event, outcome: Text) -> None:
        await studio_inbox.inbox_for(app).observe(event, outcome)

    app.ctx.customer_forgetters = [inbox_forgets]

    # -- life cycle ---------------------------------------------------------------------------------
    @app.before_server_start
    async def connect(app: Sanic, _loop) -> None:
        """Create the Redis client and the relay inside the server's event loop."""
        if app.ctx.store is None:
            from common.redis_client import async_client

            client = async_client(settings.redis_url, decode_responses=True)
            app.ctx.store = TicketStore(client, hours, settings.lease_seconds, settings.retention_seconds)
            app.ctx.owns_redis = True
        if app.ctx.relay is None:
            app.ctx.relay = RasaRelay(
                settings.rasa_url, settings.rasa_auth_token, timeout_seconds=settings.relay_timeout_seconds
            )

    @app.after_server_start
    async def start_background(app: Sanic, _loop) -> None:
        """Start the event consumer and the lease reaper."""
        if not background_tasks:
            return
        consumer = EventConsumer(
            app.ctx.store,
            settings.event_stream,
            reclaim_idle_ms=int(settings.reclaim_idle_seconds * 1000),
            reclaim_every_seconds=max(0.2, min(5.0, settings.reclaim_idle_seconds / 2)),
            listeners=[inbox_observes],
        )
        app.ctx.tasks = [
            asyncio.create_task(consumer.run(), name="handoff-event-consumer"),
            asyncio.create_task(
                run_reaper(app.ctx.store, settings.reaper_interval_seconds), name="handoff-lease-reaper"
            ),
        ]
        logger.info("Staff service ready (consumer %s on %s).", consumer.consumer, settings.event_stream)

    @app.before_server_stop
    async def stop_background(app: Sanic, _loop) -> None:
        """Cancel the background tasks."""
        for task in app.ctx.tasks:
            task.cancel()
        await asyncio.gather(*app.ctx.tasks, return_exceptions=True)

    @app.after_server_stop
    async def disconnect(app: Sanic, _loop) -> None:
        """Close the HTTP session and the Redis connections."""
        if app.ctx.relay is not None:
            await app.ctx.relay.close()
        if app.ctx.owns_redis and app.ctx.store is not None:
            await app.ctx.store.redis.close()

    # -- authentication and request counting --------------------------------------------------------
    @app.on_request
    async def authenticate(request: Request) -> Optional[HTTPResponse]:
        """Service token on /internal/*, agent token on /api/* (also ?token= on /api/events), content
        token on /studio/api/*; a body over the route's limit is refused first."""
        path = request.path
        limit = settings.max_body_bytes
        if path.startswith(studio_web.STUDIO_IMPORT_PREFIX):
            limit = studio_web.STUDIO_IMPORT_MAX_BYTES
        elif path.startswith("/internal/"):
            limit = handoff_routes.INTERNAL_MAX_BYTES
        if len(request.body or b"") > limit:
            return error(413, "payload_too_large", f"Dữ liệu gửi lên quá lớn (tối đa {limit // 1024} KB).")
        if path.startswith("/internal/"):
            if not settings.is_service_token(bearer_token(request)):
                return error(401, "unauthorized", "Thiếu hoặc sai mã truy cập của máy chủ hành động.")
        elif path.startswith("/api/"):
            token = bearer_token(request)
            if not token and path == "/api/events":  # EventSource cannot send headers
                token = request.args.get("token", "")
            agent = settings.agent_for_token(token)
            if agent is None:
                if studio_settings.editor_for_token(token):
                    return error(
                        403, "forbidden", "Mã truy cập nội dung không dùng được cho bàn làm việc nhân viên."
                    )
                return error(401, "unauthorized", "Thiếu hoặc sai mã truy cập của nhân viên.")
            request.ctx.agent = agent
        elif path.startswith(studio_web.STUDIO_API_PREFIX):
            token = bearer_token(request)
            editor = studio_settings.editor_for_token(token, settings.admin_token)
            if editor is None:
                if settings.agent_for_token(token) or settings.is_service_token(token):
                    return error(403, "forbidden", "Mã truy cập này không có quyền sửa nội dung của bot.")
                return error(401, "unauthorized", "Thiếu hoặc sai mã truy cập của đội nội dung.")
            request.ctx.editor = editor
        return None

    @app.on_response
    async def count_request(request: Request, resp: HTTPResponse) -> None:
        """Count every request by route, method and status for /metrics."""
        route = "/" + request.route.path if request.route else "unmatched"
        if app.ctx.store is None:
            return
        try:
            await app.ctx.store.count_http(request.method, route, resp.status)
        except Exception as problem:  # counting must never break a response
            logger.debug("Could not count request: %s", problem)

    @app.exception(Exception)
    async def handle_error(request: Request, exc: Exception) -> HTTPResponse:
        """Turn every exception into a JSON error with an explicit status."""
        if isinstance(exc, InvalidRequest):
            return error(400, exc.error, exc.message)
        handled = handoff_routes.error_response(exc)
        if handled is not None:
            return handled
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            logger.error("Redis unavailable: %s", exc)
            return error(
                503, "redis_unavailable", "Kho dữ liệu tạm thời không truy cập được. Vui lòng thử lại."
            )
        if isinstance(exc, PayloadTooLarge):
            kb = max(settings.max_body_bytes, studio_web.STUDIO_IMPORT_MAX_BYTES) // 1024
            return error(413, "payload_too_large", f"Dữ liệu gửi lên quá lớn (tối đa {kb} KB).")
        if isinstance(exc, NotFound):
            return error(404, "not_found", "Không tìm thấy địa chỉ này.")
        if isinstance(exc, MethodNotSupported):
            return error(405, "method_not_allowed", "Phương thức này không được hỗ trợ ở địa chỉ này.")
        if isinstance(exc, SanicException) and exc.status_code < 500:
            return error(exc.status_code, "bad_request", "Yêu cầu không hợp lệ.")
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error(500, "internal_error", "Lỗi hệ thống. Vui lòng thử lại sau.")

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        """Liveness and Redis reachability."""
        try:
            ok = await app.ctx.store.ping()
        except Exception as problem:
            logger.warning("Health check: Redis unavailable (%s).", problem)
            ok = False
        return response.json({"status": "ok" if ok else "degraded", "redis": ok}, status=200 if ok else 503)

    # -- the parts ----------------------------------------------------------------------------------
    handoff_routes.register(app)  # /internal/handoffs, /internal/tickets, /api/*, /console, /, /chat
    studio_web.register(app, studio_settings)  # /studio, /studio/api/*, /internal/nlg, /internal/models
    return app
