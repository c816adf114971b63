"""The staff service's app, built in one place (the composition root).

It reads the settings once, owns the Redis client and the relay to Rasa, authenticates every request
(a staff session cookie or an API token, staff/identity.py) and lets it through only when the route's rule
admits its role (the one policy table, staff/access.py; cookie requests that change state also need their
CSRF token), audits what staff do (staff/audit.py), counts requests for /metrics, turns every exception
into a JSON error, and mounts the staff accounts' routes (sign-in, admin, team), the handoff routes
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

from common.http import InvalidRequest, error
from common.privacy import logging_config
from handoff import app as handoff_routes
from handoff.event_consumer import EventConsumer
from handoff.hours import AgentHours, load_holidays
from handoff.lease_reaper import run_reaper
from handoff.relay import RasaRelay
from handoff.settings import HandoffSettings
from handoff.ticket_store import TicketStore
from staff import access, admin_routes, auth_routes, pages, team_routes
from staff.accounts import AccountNotFound, AccountStore
from staff.audit import AuditLog, route_action, training_outcome
from staff.identity import Identifier, csrf_ok, same_origin
from staff.lockout import Lockout
from staff.presence import Presence
from staff.sessions import SessionStore
from staff.settings import StaffSettings
from studio import inbox as studio_inbox
from studio import web as studio_web
from studio.settings import StudioSettings

logger = logging.getLogger(__name__)

SIGN_IN_MESSAGE = (
    "Bạn chưa đăng nhập, phiên làm việc đã hết hạn hoặc thiếu mã truy cập. Vui lòng đăng nhập lại."
)
SERVICE_MESSAGE = "Thiếu hoặc sai mã truy cập của máy chủ hành động."
FORBIDDEN_MESSAGE = "Tài khoản của bạn không có quyền dùng chức năng này."
CHANGE_PASSWORD_MESSAGE = "Vui lòng đổi mật khẩu dùng một lần trước khi tiếp tục."
CSRF_MESSAGE = (
    "Yêu cầu bị từ chối vì thiếu mã bảo vệ phiên làm việc (CSRF). Vui lòng tải lại trang rồi thử lại."
)


def create_app(
    settings: HandoffSettings,
    store: Optional[TicketStore] = None,
    relay: Optional[RasaRelay] = None,
    name: Text = "senmart_staff",
    background_tasks: bool = True,
    configure_logging: bool = True,
    studio_settings: Optional[StudioSettings] = None,
    staff_settings: Optional[StaffSettings] = None,
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
    staff_settings = staff_settings or StaffSettings.from_env()
    app.ctx.settings = settings
    app.ctx.staff_settings = staff_settings
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
        redis = app.ctx.store.redis
        app.ctx.accounts = AccountStore(redis, staff_settings.agent_capacity)
        app.ctx.sessions = SessionStore(
            redis, staff_settings.session_idle_seconds, staff_settings.session_max_seconds
        )
        app.ctx.lockout = Lockout(
            redis,
            staff_settings.lockout_failures,
            staff_settings.lockout_address_failures,
            staff_settings.lockout_window_seconds,
            staff_settings.lockout_seconds,
            staff_settings.failure_delay_cap_seconds,
        )
        app.ctx.audit = AuditLog(redis, staff_settings.audit_retention_days)
        app.ctx.presence = Presence(redis, staff_settings.presence_ttl_seconds)
        app.ctx.identifier = Identifier(
            settings, studio_settings, app.ctx.accounts, app.ctx.sessions, staff_settings.agent_capacity
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
            asyncio.create_task(
                app.ctx.audit.run_trimmer(staff_settings.audit_trim_every_seconds), name="staff-audit-trim"
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

    # -- authentication, authorisation, CSRF and audit -----------------------------------------------
    @app.on_request
    async def authenticate(request: Request) -> Optional[HTTPResponse]:
        """A body over the route's limit is refused first; then the route's rule (staff/access.py) decides
        by the principal of the request; cookie requests that change state need their CSRF token."""
        path = request.path
        limit = settings.max_body_bytes
        if path.startswith(studio_web.STUDIO_IMPORT_PREFIX):
            limit = studio_web.STUDIO_IMPORT_MAX_BYTES
        elif path.startswith("/internal/"):
            limit = handoff_routes.INTERNAL_MAX_BYTES
        if len(request.body or b"") > limit:
            return error(413, "payload_too_large", f"Dữ liệu gửi lên quá lớn (tối đa {limit // 1024} KB).")
        if request.route is None:  # no such route: the 404 of the error handler
            return None
        rule = access.rule_for(access.route_key(request.route))
        if rule is not None and rule.public:
            if request.method in ("POST", "PUT", "PATCH", "DELETE") and not same_origin(request):
                return error(403, "csrf", CSRF_MESSAGE)
            return None
        identity = await app.ctx.identifier.identify(request)
        verdict = access.decide(rule, identity.principal)
        if verdict == access.UNAUTHENTICATED:
            if rule is not None and rule.page:
                return pages.to_sign_in(request)
            if rule is not None and rule.roles is access.SERVICES:
                message = SERVICE_MESSAGE
            else:
                message = "Sai mã truy cập." if identity.bad_token else SIGN_IN_MESSAGE
            return error(401, "unauthorized", message)
        if verdict == access.CHANGE_PASSWORD:
            if rule is not None and rule.page:
                return pages.to_sign_in(request, change_password=True)
            return error(403, "password_change_required", CHANGE_PASSWORD_MESSAGE)
        if verdict == access.FORBIDDEN:
            if rule is not None and rule.page:
                return await pages.forbidden_page()
            return error(403, "forbidden", FORBIDDEN_MESSAGE)
        if identity.session is not None and not csrf_ok(request, identity.session):
            return error(403, "csrf", CSRF_MESSAGE)
        request.ctx.staff = identity.principal
        request.ctx.session = identity.session
        return None

    @app.on_response
    async def audit_route(request: Request, resp: HTTPResponse) -> None:
        """Audit a successful call of an audited route of handoff/ or studio/ (staff/audit.py)."""
        if not request.route or resp.status >= 400 or getattr(request.ctx, "staff", None) is None:
            return
        found = route_action(request.method, access.route_key(request.route), request.match_info)
        if found is not None:
            await app.ctx.audit.record(request.ctx.staff, found[0], found[1], {"status": resp.status})

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
        if isinstance(exc, AccountNotFound):
            return error(404, "not_found", "Không tìm thấy tài khoản này.")
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
    pages.register(app)  # /staff/static/*
    auth_routes.register(app)  # /signin, /auth/*
    admin_routes.register(app)  # /admin, /admin/api/*
    team_routes.register(app)  # /api/presence, /api/agents, /api/tickets/<id>/reassign
    handoff_routes.register(app)  # /internal/handoffs, /internal/tickets, /api/*, /console, /, /chat
    studio_web.register(app, studio_settings)  # /studio, /studio/api/*, /internal/nlg, /internal/models

    async def audit_training(actor, state) -> None:
        """A training job's end in the audit log, by who started it (published, refused or failed)."""
        action, target, details = training_outcome(state)
        await app.ctx.audit.record(actor, action, target, details)

    app.ctx.studio_training.finish_listeners.append(audit_training)
    return app
