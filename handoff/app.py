"""The handoff service's HTTP API (docs/handoff.md): internal API, agent API, SSE, console files."""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
from pathlib import Path
from typing import Any, Dict, Optional, Text
from urllib.parse import urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Request, Sanic, response
from sanic.exceptions import MethodNotSupported, NotFound, PayloadTooLarge, SanicException
from sanic.response import HTTPResponse

from bot.chat_sessions import is_valid as is_issued_session
from handoff import metrics
from handoff.canned_replies import CannedReplies, CannedRepliesError
from handoff.conversation import ConversationNotFound
from handoff.customer_deletion import delete_customer_data
from handoff.event_consumer import EventConsumer
from handoff.hours import AgentHours, load_holidays
from handoff.lease_reaper import run_reaper
from handoff.log_privacy import logging_config
from handoff.relay import RasaRelay, RelayError
from handoff.settings import HandoffSettings
from handoff.ticket_rules import (
    STATUS_LABELS,
    STATUSES_FOR_FILTER,
    HandoffRequest,
    InvalidRequest,
    agent_text,
    csat_input,
    estimate_wait_minutes,
)
from handoff.ticket_store import NotTicketOwner, TicketConflict, TicketNotFound, TicketStore
from handoff.transcript_export import export_json, export_text
from studio import inbox as studio_inbox
from studio import web as studio_web
from studio.settings import StudioSettings
from studio.web import STUDIO_API_PREFIX, STUDIO_IMPORT_MAX_BYTES, STUDIO_IMPORT_PREFIX

logger = logging.getLogger(__name__)

TICKET_ID = re.compile(r"\AKN-\d{8}-\d{4,}\Z")
# /internal/handoffs carries a whole conversation (customer messages up to 1 MB each)
INTERNAL_MAX_BYTES = 16 * 1024 * 1024
CHAT_CHANNEL = "socketio"
CHAT_SOCKET_PATH = "/socket.io/"
SSE_KEEPALIVE_SECONDS = 15.0


def error(http_status: int, code: Text, message: Text, **extra: Any) -> HTTPResponse:
    """A JSON error: machine code in `error`, Vietnamese explanation in `message`."""
    return response.json({"error": code, "message": message, **extra}, status=http_status)


def json_body(request: Request) -> Any:
    """The parsed JSON body; InvalidRequest when absent or not JSON."""
    if not request.body:
        raise InvalidRequest("invalid_json", "Thiếu dữ liệu JSON trong yêu cầu.")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as problem:
        raise InvalidRequest("invalid_json", "Dữ liệu gửi lên không phải JSON hợp lệ.") from problem


def chat_security_headers(socket_url: Text) -> Dict[Text, Text]:
    """CSP of the chat page: our own files, images over https, and Rasa's socket.io (http and ws)."""
    parts = urlsplit(socket_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    socket_origins = f"{parts.scheme}://{parts.netloc} {ws_scheme}://{parts.netloc}"
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' {socket_origins}; img-src 'self' https: data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


# the agent console: our own files only; its live updates (/api/events) are same-origin
CONSOLE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def bearer_token(request: Request) -> Text:
    """The token of an `Authorization: Bearer …` header, or empty."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def ticket_id_from_path(raw: Text) -> Text:
    """The ticket id of a URL (case-insensitive, as customers type it); TicketNotFound if malformed."""
    ticket_id = raw.strip().upper()
    if not TICKET_ID.match(ticket_id):
        raise TicketNotFound(raw)
    return ticket_id


def create_app(
    settings: HandoffSettings,
    store: Optional[TicketStore] = None,
    relay: Optional[RasaRelay] = None,
    name: Text = "senmart_handoff",
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
    app.config.REQUEST_MAX_SIZE = max(settings.max_body_bytes, STUDIO_IMPORT_MAX_BYTES, INTERNAL_MAX_BYTES)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 2.0
    hours = AgentHours.with_holidays(load_holidays(settings.holidays_file), settings.timezone_offset_hours)
    app.ctx.settings = settings
    app.ctx.hours = hours
    app.ctx.store = store
    app.ctx.relay = relay
    app.ctx.tasks = []
    app.ctx.owns_redis = False
    canned = CannedReplies(settings.canned_replies_file)
    studio_settings = studio_settings or StudioSettings.from_env()

    def the_store() -> TicketStore:
        return app.ctx.store

    # -- life cycle ---------------------------------------------------------------------------------
    @app.before_server_start
    async def connect(app: Sanic, _loop) -> None:
        """Create the Redis client and the relay inside the server's event loop."""
        if app.ctx.store is None:
            from bot.redis_client import async_client

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
        )
        app.ctx.tasks = [
            asyncio.create_task(consumer.run(), name="handoff-event-consumer"),
            asyncio.create_task(
                run_reaper(app.ctx.store, settings.reaper_interval_seconds), name="handoff-lease-reaper"
            ),
        ]
        logger.info("Handoff service ready (consumer %s on %s).", consumer.consumer, settings.event_stream)

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
        """Service token on /internal/*, agent token on /api/* (also ?token= on /api/events)."""
        path = request.path
        limit = settings.max_body_bytes
        if path.startswith(STUDIO_IMPORT_PREFIX):
            limit = STUDIO_IMPORT_MAX_BYTES
        elif path.startswith("/internal/"):
            limit = INTERNAL_MAX_BYTES
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
        elif path.startswith(STUDIO_API_PREFIX):
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
        if isinstance(exc, TicketNotFound):
            return error(404, "not_found", "Không tìm thấy phiếu khiếu nại này.")
        if isinstance(exc, NotTicketOwner):
            return error(
                403,
                "forbidden",
                f"Phiếu đang do nhân viên {exc.claimed_by} xử lý.",
                claimed_by=exc.claimed_by,
            )
        if isinstance(exc, TicketConflict):
            if exc.claimed_by:
                message = f"Phiếu đã được nhân viên {exc.claimed_by} nhận."
            else:
                label = STATUS_LABELS.get(exc.status, exc.status)
                message = f"Phiếu đang ở trạng thái {label}, không thể thực hiện thao tác này."
            return error(409, "conflict", message, ticket_status=exc.status, claimed_by=exc.claimed_by)
        if isinstance(exc, RelayError):
            logger.error("Relay to Rasa failed: %s", exc)
            return error(502, "relay_failed", "Không gửi được tới khách qua trợ lý ảo. Vui lòng thử lại.")
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            logger.error("Redis unavailable: %s", exc)
            return error(
                503, "redis_unavailable", "Kho dữ liệu tạm thời không truy cập được. Vui lòng thử lại."
            )
        if isinstance(exc, PayloadTooLarge):
            kb = max(settings.max_body_bytes, STUDIO_IMPORT_MAX_BYTES) // 1024
            return error(413, "payload_too_large", f"Dữ liệu gửi lên quá lớn (tối đa {kb} KB).")
        if isinstance(exc, NotFound):
            return error(404, "not_found", "Không tìm thấy địa chỉ này.")
        if isinstance(exc, MethodNotSupported):
            return error(405, "method_not_allowed", "Phương thức này không được hỗ trợ ở địa chỉ này.")
        if isinstance(exc, SanicException) and exc.status_code < 500:
            return error(exc.status_code, "bad_request", "Yêu cầu không hợp lệ.")
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error(500, "internal_error", "Lỗi hệ thống. Vui lòng thử lại sau.")

    # -- health and metrics -------------------------------------------------------------------------
    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        """Liveness and Redis reachability."""
        try:
            ok = await the_store().ping()
        except Exception as problem:
            logger.warning("Health check: Redis unavailable (%s).", problem)
            ok = False
        return response.json({"status": "ok" if ok else "degraded", "redis": ok}, status=200 if ok else 503)

    @app.get("/metrics")
    async def prometheus(request: Request) -> HTTPResponse:
        """Prometheus text exposition."""
        text = metrics.render(await the_store().snapshot())
        return response.text(text, content_type=metrics.CONTENT_TYPE)

    # -- internal API (action server) ---------------------------------------------------------------
    @app.post("/internal/handoffs")
    async def create_handoff(request: Request) -> HTTPResponse:
        """Open a ticket for a conversation, or reuse its open one."""
        handoff = HandoffRequest.from_json(json_body(request))
        result = await the_store().create_or_reuse(handoff)
        if result.created:  # the studio's "Bot chưa hiểu" inbox: the opening customer messages
            await studio_inbox.record_handoff_safely(app, handoff, result.ticket_id)
        now = the_store().clock()
        body = {
            "ticket_id": result.ticket_id,
            "queue_position": result.queue_position,
            "estimated_wait_minutes": estimate_wait_minutes(
                result.queue_position, settings.avg_handle_minutes, hours, now
            ),
            "within_hours": hours.is_open(now),
            "agents_return_at": hours.agents_return_at(now),
            "reused": not result.created,
            "status": result.status,
            "status_label": STATUS_LABELS[result.status],
        }
        return response.json(body, status=201 if result.created else 200)

    @app.get("/internal/tickets/<ticket_id>")
    async def ticket_status(request: Request, ticket_id: Text) -> HTTPResponse:
        """Status of a ticket for the customer (the bot's status lookup)."""
        ticket_id = ticket_id_from_path(ticket_id)
        ticket = await the_store().require(ticket_id)
        return response.json(
            {
                "ticket_id": ticket["id"],
                "status": ticket["status"],
                "status_label": ticket["status_label"],
                "created_at": ticket["created_at"],
                "reason": ticket["reason"],
            }
        )

    @app.post("/internal/tickets/<ticket_id>/csat")
    async def csat(request: Request, ticket_id: Text) -> HTTPResponse:
        """Record the customer's rating of a resolved ticket."""
        ticket_id = ticket_id_from_path(ticket_id)
        rating, comment = csat_input(json_body(request))
        ticket = await the_store().record_csat(ticket_id, rating, comment)
        return response.json({"ticket_id": ticket_id, "status": ticket["status"], "csat": ticket["csat"]})

    # -- agent API ----------------------------------------------------------------------------------
    @app.get("/api/tickets")
    async def list_tickets(request: Request) -> HTTPResponse:
        """Tickets of one status, optionally filtered by a search text."""
        status = request.args.get("status", "open")
        if status not in STATUSES_FOR_FILTER:
            raise InvalidRequest(
                "invalid_request", "Trạng thái lọc phải là waiting, claimed, resolved, closed hoặc open."
            )
        tickets = await the_store().list_tickets(status, request.args.get("q"))
        return response.json({"tickets": tickets, "count": len(tickets)})

    @app.get("/api/tickets/<ticket_id>")
    async def get_ticket(request: Request, ticket_id: Text) -> HTTPResponse:
        """One ticket with its whole transcript."""
        ticket_id = ticket_id_from_path(ticket_id)
        return response.json(await the_store().require(ticket_id, with_transcript=True))

    @app.get("/api/tickets/<ticket_id>/customer-history")
    async def customer_history(request: Request, ticket_id: Text) -> HTTPResponse:
        """The customer's other conversations (other channels, same phone/e-mail), read from Rasa."""
        ticket_id = ticket_id_from_path(ticket_id)
        ticket = await the_store().require(ticket_id)
        profile = await the_store().profiles.profile_of(ticket["sender_id"])
        conversations = []
        for linked in (profile or {}).get("conversations", []):
            if linked["sender_id"] == ticket["sender_id"]:
                continue
            entry = {**linked, "messages": [], "error": None}
            try:
                entry["messages"] = await app.ctx.relay.conversation_messages(linked["sender_id"])
            except RelayError as problem:
                logger.warning("History of a linked conversation unavailable: %s", problem)
                entry["error"] = "Không đọc được lịch sử cuộc trò chuyện này từ trợ lý ảo."
            conversations.append(entry)
        return response.json(
            {"ticket_id": ticket_id, "profile_id": (profile or {}).get("id"), "conversations": conversations}
        )

    @app.post("/api/tickets/<ticket_id>/claim")
    async def claim(request: Request, ticket_id: Text) -> HTTPResponse:
        """Take a waiting ticket."""
        ticket_id = ticket_id_from_path(ticket_id)
        return response.json(await the_store().claim(ticket_id, request.ctx.agent.name))

    @app.post("/api/tickets/<ticket_id>/heartbeat")
    async def heartbeat(request: Request, ticket_id: Text) -> HTTPResponse:
        """Renew the claim lease."""
        ticket_id = ticket_id_from_path(ticket_id)
        return response.json(await the_store().heartbeat(ticket_id, request.ctx.agent.name))

    @app.post("/api/tickets/<ticket_id>/messages")
    async def send_message(request: Request, ticket_id: Text) -> HTTPResponse:
        """Send an agent's message to the customer and record it."""
        ticket_id = ticket_id_from_path(ticket_id)
        text = agent_text(json_body(request))
        agent = request.ctx.agent.name
        await the_store().claim_for_reply(ticket_id, agent)
        ticket = await the_store().require(ticket_id)
        await app.ctx.relay.send_agent_message(ticket["sender_id"], text, agent)
        return response.json(await the_store().record_agent_message(ticket_id, agent, text))

    @app.post("/api/tickets/<ticket_id>/resolve")
    async def resolve(request: Request, ticket_id: Text) -> HTTPResponse:
        """Resolve, resume the bot and ask for CSAT."""
        ticket_id = ticket_id_from_path(ticket_id)
        agent = request.ctx.agent.name
        ticket = await the_store().check_can_finish(ticket_id, agent)
        await app.ctx.relay.resume_and_request_csat(ticket["sender_id"], ticket_id)
        return response.json(await the_store().resolve(ticket_id, agent))

    @app.post("/api/tickets/<ticket_id>/return-to-bot")
    async def return_to_bot(request: Request, ticket_id: Text) -> HTTPResponse:
        """Close and hand the conversation back to the bot."""
        ticket_id = ticket_id_from_path(ticket_id)
        agent = request.ctx.agent.name
        ticket = await the_store().check_can_finish(ticket_id, agent)
        await app.ctx.relay.return_to_bot(ticket["sender_id"])
        return response.json(await the_store().return_to_bot(ticket_id, agent))

    @app.get("/api/tickets/<ticket_id>/export")
    async def export(request: Request, ticket_id: Text) -> HTTPResponse:
        """Download the transcript as text or JSON."""
        ticket_id = ticket_id_from_path(ticket_id)
        kind = request.args.get("format", "txt")
        if kind not in ("txt", "json"):
            raise InvalidRequest("invalid_request", "Định dạng tải về phải là txt hoặc json.")
        ticket = await the_store().require(ticket_id, with_transcript=True)
        headers = {"Content-Disposition": f'attachment; filename="{ticket_id}.{kind}"'}
        if kind == "json":
            return response.text(
                export_json(ticket), content_type="application/json; charset=utf-8", headers=headers
            )
        return response.text(
            export_text(ticket, hours), content_type="text/plain; charset=utf-8", headers=headers
        )

    @app.get("/api/canned-replies")
    async def canned_replies(request: Request) -> HTTPResponse:
        """Canned replies for the console."""
        try:
            replies = canned.get()
        except CannedRepliesError:
            logger.exception("Canned replies unavailable.")
            replies = []
        return response.json({"canned_replies": replies})

    @app.get("/api/me")
    async def me(request: Request) -> HTTPResponse:
        """Who the token belongs to."""
        agent = request.ctx.agent
        return response.json({"name": agent.name, "role": agent.role})

    @app.get("/api/dashboard")
    async def dashboard(request: Request) -> HTTPResponse:
        """Queue, SLA and satisfaction figures."""
        return response.json(await the_store().dashboard())

    @app.delete("/api/customers/<sender_id>")
    async def delete_customer(request: Request, sender_id: Text) -> HTTPResponse:
        """Delete everything kept about a conversation (admin only; handoff/customer_deletion.py)."""
        if not request.ctx.agent.is_admin:
            return error(403, "forbidden", "Chỉ quản trị viên được xóa dữ liệu khách hàng.")
        report = await delete_customer_data(
            the_store(),
            sender_id,
            settings.tracker_key_prefix,
            settings.event_stream,
            forget_inbox=studio_inbox.inbox_for(app).forget_sender,
        )
        return response.json({"sender_id": sender_id, **report})

    @app.get("/api/events")
    async def events(request: Request) -> None:
        """Server-Sent Events: one `ticket` event per change."""
        pubsub = the_store().redis.pubsub()
        await pubsub.subscribe(the_store().events_channel)
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        loop = asyncio.get_running_loop()
        try:
            await stream.send("retry: 3000\n: connected\n\n")
            last_sent = loop.time()
            while True:
                # None on timeout and for the subscribe confirmation alike
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    await stream.send(f"event: ticket\ndata: {message['data']}\n\n")
                    last_sent = loop.time()
                elif loop.time() - last_sent >= SSE_KEEPALIVE_SECONDS:
                    await stream.send(": keep-alive\n\n")
                    last_sent = loop.time()
        finally:
            try:
                await pubsub.unsubscribe()
                await pubsub.close()
            except Exception as problem:
                logger.debug("SSE clean-up: %s", problem)

    # -- the agent console page (files written by the console's author) -----------------------------
    async def static_file(
        base_dir: Path, filename: Text, headers: Optional[dict] = None, utf8: bool = False
    ) -> HTTPResponse:
        """A file under base_dir (never outside it), or a 404 JSON error; `utf8` names the charset."""
        base = Path(base_dir).resolve()
        path = (base / filename).resolve()
        if base not in path.parents or not path.is_file():
            return error(404, "not_found", "Không tìm thấy tệp giao diện.")
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if utf8 and (mime_type.startswith("text/") or mime_type.endswith(("javascript", "json"))):
            mime_type += "; charset=utf-8"
        return await response.file(
            path, mime_type=mime_type, headers={"Cache-Control": "no-cache", **(headers or {})}
        )

    async def console_file(request: Request, filename: Text = "console.html") -> HTTPResponse:
        """A file of the agent console (handoff/static/)."""
        return await static_file(settings.static_dir, filename, headers=CONSOLE_SECURITY_HEADERS)

    app.add_route(console_file, "/console", methods=["GET"], strict_slashes=False, name="console")
    app.add_route(console_file, "/console/<filename:path>", methods=["GET"], name="console_file")
    # console.html links its assets as /static/…
    app.add_route(console_file, "/static/<filename:path>", methods=["GET"], name="static_file")

    # -- the customer chat page (handoff/static/chat/), talking to Rasa's socket.io channel ---------
    chat_dir = Path(settings.static_dir) / "chat"

    def chat_socket_url(request: Request) -> Text:
        """CHAT_SOCKET_URL, else the host the page was requested from on Rasa's port."""
        if settings.chat_socket_url:
            return settings.chat_socket_url
        # Sanic's parse_host accepts only a host name, IPv4 or [IPv6] (the value ends up in the CSP)
        host = request.server_name or "localhost"
        scheme = "https" if request.scheme == "https" else "http"
        return f"{scheme}://{host}:{settings.chat_socket_port}"

    @app.get("/")
    async def chat_page(request: Request) -> HTTPResponse:
        """The chat page, with a Content-Security-Policy that allows only our files and Rasa's socket."""
        headers = chat_security_headers(chat_socket_url(request))
        return await static_file(chat_dir, "index.html", headers, utf8=True)

    @app.get("/chat/config.json")
    async def chat_config(request: Request) -> HTTPResponse:
        """Where the page finds Rasa's socket.io channel."""
        body = {"socket_url": chat_socket_url(request), "socket_path": CHAT_SOCKET_PATH}
        return response.json(body, headers={"Cache-Control": "no-store"})

    @app.get("/chat/history")
    async def chat_history(request: Request) -> HTTPResponse:
        """The messages of a chat page session, from Rasa's tracker (socket.io conversations only)."""
        session_id = request.args.get("session_id", "")
        if not is_issued_session(session_id, settings.chat_session_secret):
            return error(404, "not_found", "Không tìm thấy cuộc trò chuyện này.")
        try:
            messages = await app.ctx.relay.conversation_messages(session_id, channel=CHAT_CHANNEL)
        except ConversationNotFound:
            return error(404, "not_found", "Không tìm thấy cuộc trò chuyện này.")
        except RelayError as problem:
            logger.error("Chat history unavailable: %s", problem)
            return error(
                502,
                "history_unavailable",
                "Chưa tải được các tin nhắn trước đó. Bạn vẫn có thể tiếp tục trò chuyện với SenMart nhé.",
            )
        return response.json({"messages": messages}, headers={"Cache-Control": "no-store"})

    async def chat_file(request: Request, filename: Text) -> HTTPResponse:
        """A file of the chat page (chat.js, chat.css, vendor/socket.io.min.js)."""
        return await static_file(chat_dir, filename, utf8=True)

    app.add_route(chat_file, "/chat/<filename:path>", methods=["GET"], name="chat_file")

    # -- the content studio (studio/): /studio pages, /studio/api/*, /internal/nlg, /internal/models ----
    studio_web.register(app, studio_settings)
    return app
