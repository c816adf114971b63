"""Values more than one service must agree on, written once."""

from __future__ import annotations

from datetime import timedelta, timezone

# the embedded Redis that `make run` starts (bot/settings.py EMBEDDED_REDIS_PORT)
EMBEDDED_REDIS_PORT = 16379
DEFAULT_REDIS_URL = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
# the webhook ingress's port unless WEBHOOK_INGRESS_PORT says (bot/webhook_ingress.py, bot/settings.py):
# not Rasa's 5005, the action server's 5055 nor the staff service's 8000
WEBHOOK_INGRESS_PORT = 5070
# Rasa's events (endpoints.yml event_broker.stream) that the staff service reads
EVENT_STREAM = "senmart:events"
# Vietnam: UTC+7 all year (Asia/Ho_Chi_Minh has no daylight saving time)
VIETNAM_UTC_OFFSET_HOURS = 7.0
VIETNAM = timezone(timedelta(hours=VIETNAM_UTC_OFFSET_HOURS))
# the staff service writes this event to EVENT_STREAM when it opens a ticket, so every listener (the
# studio's inbox and per-day figures) hears of new tickets on the same path as Rasa's events
TICKET_OPENED_EVENT = "senmart_ticket_opened"
