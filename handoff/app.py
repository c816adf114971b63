"""The handoff routes of the staff service (docs/handoff.md): the internal API the action server calls,
the agents' API and live updates (SSE), the agent console and the customer chat page.

`register` mounts them on the staff service's app (staff/app.py), which owns the app, its life cycle,
authentication and the Redis client; `error_response` turns this package's exceptions into JSON errors.
A new ticket is announced on the event stream (ticket_events.py), where the listeners registered there hear
it; who else forgets a deleted customer (the studio's inbox) is in `app.ctx.customer_forgetters`."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Dict, Optional, Text
from urllib.parse import urlsplit

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from common.chat_sessions import is_valid as is_issued_session
from common.delivery import explanation
from common.http import InvalidRequest, error, json_body, static_file
from handoff import metrics, ticket_events
from handoff.canned_replies import CannedReplies, CannedRepliesError
from handoff.conversation import ConversationNotFound
from handoff.customer_deletion import delete_customer_data
from handoff.hours import AgentHours
from handoff.relay import CustomerUnreachable, RelayError
from handoff.settings import HandoffSettings
from handoff.ticket_rules import (
    STATUS_LABELS,
    STATUSES_FOR_FILTER,
    HandoffRequest,
    agent_text,
    csat_input,
    estimate_wait_minutes,
)
from handoff.ticket_store import (
    AgentAtCapacity,
    NotTicketOwner,
    TicketConflict,
    TicketNotFound,
    TicketStore,
)
from handoff.transcript_export import export_json, export_text

logger = logging.getLogger(__name__)

TICKET_ID = re.compile(r"\AKN-\d{8}-\d{4,}\Z")
# /internal/handoffs carries a whole conversation (customer messages up to 1 MB each)
INTERNAL_MAX_BYTES = 16 * 1024 * 1024
CHAT_CHANNEL = "socketio"
CHAT_SOCKET_PATH = "/socket.io/"
SSE_KEEPALIVE_SECONDS = 15.0


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


def ticket_id_from_path(raw: Text) -> Text:
    """The ticket id of a URL (case-insensitive, as customers type it); TicketNotFound if malformed."""
    ticket_id = raw.strip().upper()
    if not TICKET_ID.match(ticket_id):
        raise TicketNotFound(raw)
    return ticket_id


def error_response(exc: Exception) -> Optional[HTTPResponse]:
    """The JSON error for an exception of the handoff routes, or None when it is not one of theirs."""
    if isinstance(exc, TicketNotFound):
        return error(404, "not_found", "Không tìm thấy phiếu khiếu nại này.")
    if isinstance(exc, NotTicketOwner):
        return error(
            403,
            "forbidden",
            f"Phiếu đang do nhân viên {exc.claimed_by} xử lý.",
            claimed_by=exc.claimed_by,
        )
    if isinstance(exc, AgentAtCapacity):
        return error(
            409,
            "at_capacity",
            f"Nhân viên {exc.agent} đang xử lý {exc.load} phiếu, đã đạt giới hạn {exc.capacity} phiếu. "
            "Vui lòng hoàn tất hoặc chuyển bớt phiếu trước khi nhận thêm.",
            load=exc.load,
            capacity=exc.capacity,
        )
    if isinstance(exc, TicketConflict):
        if exc.claimed_by:
            message = f"Phiếu đã được nhân viên {exc.claimed_by} nhận."
        else:
            label = STATUS_LABELS.get(exc.status, exc.status)
            message = f"Phiếu đang ở trạng thái {label}, không thể thực hiện thao tác này."
        return error(409, "conflict", message, ticket_status=exc.status, claimed_by=exc.claimed_by)
    if isinstance(exc, CustomerUnreachable):
        logger.warning("Agent message not delivered (%s): %s", exc.reason, exc)
        return error(502, "not_delivered", explanation(exc.reason), reason=exc.reason)
    if isinstance(exc, RelayError):
        logger.error("Relay to Rasa failed: %s", exc)
        return error(502, "relay_failed", "Không gửi được tới khách qua trợ lý ảo. Vui lòng thử lại.")
    return None


def register(app: Sanic) -> None:
    """Mount the handoff routes; `app.ctx` holds settings, hours, store and relay (staff/app.py)."""
    settings: HandoffSettings = app.ctx.settings
    hours: AgentHours = app.ctx.hours
    canned = CannedReplies(settings.canned_replies_file)

    def the_store() -> TicketStore:
        return app.ctx.store

    # -- metrics ------------------------------------------------------------------------------------
    @app.get("/metrics")
    async def prometheus(request: Request) -> HTTPResponse:
        """Prometheus text exposition."""
        store = the_store()
        text = metrics.render(await store.snapshot(), await metrics.webhook_queue_figures(store.redis))
        return response.text(text, content_type=metrics.CONTENT_TYPE)

    # -- internal API (action server) ---------------------------------------------------------------
    @app.post("/internal/handoffs")
    async def create_handoff(request: Request) -> HTTPResponse:
        """Open a ticket for a conversation, or reuse its open one."""
        handoff = HandoffRequest.from_json(json_body(request))
        result = await the_store().create_or_reuse(handoff)
        now = the_store().clock()
        if result.created:  # heard by the event stream's listeners (e.g. the studio's inbox)
            event = ticket_events.ticket_opened(handoff, result.ticket_id, now)
            await ticket_events.announce(the_store().redis, settings.event_stream, event)
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
        staff = request.ctx.staff
        return response.json(await the_store().claim(ticket_id, staff.name, staff.capacity))

    @app.post("/api/tickets/<ticket_id>/heartbeat")
    async def heartbeat(request: Request, ticket_id: Text) -> HTTPResponse:
        """Renew the claim lease."""
        ticket_id = ticket_id_from_path(ticket_id)
        return response.json(await the_store().heartbeat(ticket_id, request.ctx.staff.name))

    @app.post("/api/tickets/<ticket_id>/messages")
    async def send_message(request: Request, ticket_id: Text) -> HTTPResponse:
        """Send an agent's message to the customer and record it."""
        ticket_id = ticket_id_from_path(ticket_id)
        text = agent_text(json_body(request))
        agent = request.ctx.staff.name
        await the_store().claim_for_reply(ticket_id, agent, request.ctx.staff.capacity)
        ticket = await the_store().require(ticket_id)
        await app.ctx.relay.send_agent_message(ticket["sender_id"], text, agent)
        return response.json(await the_store().record_agent_message(ticket_id, agent, text))

    @app.post("/api/tickets/<ticket_id>/resolve")
    async def resolve(request: Request, ticket_id: Text) -> HTTPResponse:
        """Resolve, resume the bot and ask for CSAT."""
        ticket_id = ticket_id_from_path(ticket_id)
        agent = request.ctx.staff.name
        ticket = await the_store().check_can_finish(ticket_id, agent)
        await app.ctx.relay.resume_and_request_csat(ticket["sender_id"], ticket_id)
        return response.json(await the_store().resolve(ticket_id, agent))

    @app.post("/api/tickets/<ticket_id>/return-to-bot")
    async def return_to_bot(request: Request, ticket_id: Text) -> HTTPResponse:
        """Close and hand the conversation back to the bot."""
        ticket_id = ticket_id_from_path(ticket_id)
        agent = request.ctx.staff.name
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
        """Who is signed in (or whose API token this is)."""
        agent = request.ctx.staff
        return response.json({"name": agent.name, "role": agent.role})

    @app.get("/api/dashboard")
    async def dashboard(request: Request) -> HTTPResponse:
        """Queue, SLA and satisfaction figures."""
        return response.json(await the_store().dashboard())

    async def forget_elsewhere(sender_id: Text) -> int:
        """What the other parts of the service (the studio's inbox) kept of a conversation: deleted."""
        return sum([await forget(sender_id) for forget in app.ctx.customer_forgetters])

    @app.delete("/api/customers/<sender_id>")
    async def delete_customer(request: Request, sender_id: Text) -> HTTPResponse:
        """Delete everything kept about a conversation (admins only: staff/access.py;
        handoff/customer_deletion.py)."""
        report = await delete_customer_data(
            the_store(),
            sender_id,
            settings.tracker_key_prefix,
            settings.event_stream,
            forget_inbox=forget_elsewhere,
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
