"""Transcript downloads: plain text for people, JSON for systems."""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Text

from common.handoff_reasons import reason_label
from handoff.hours import AgentHours

ROLE_NAMES = {"customer": "Khách", "bot": "Trợ lý ảo", "agent": "Nhân viên", "system": "Hệ thống"}


def _local(hours: AgentHours, timestamp: Optional[float]) -> Text:
    if timestamp is None:
        return "--"
    return hours.local(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def export_text(ticket: Mapping[Text, Any], hours: AgentHours) -> Text:
    """The ticket header and every transcript message, one per line block, in order."""
    offset = hours.utc_offset_hours
    zone = f"UTC{'+' if offset >= 0 else '-'}{abs(offset):g}"
    lines = [
        f"Phiếu {ticket['id']} — {ticket['status_label']}",
        f"Cuộc trò chuyện: {ticket['sender_id']} — kênh: {ticket['channel']}"
        f" — lý do: {reason_label(ticket['reason'])}",
        f"Tạo lúc: {_local(hours, ticket['created_at'])} ({zone})",
        "",
    ]
    for message in ticket.get("transcript", []):
        speaker = ROLE_NAMES.get(message.get("role"), message.get("role") or "?")
        if message.get("role") == "agent" and message.get("agent"):
            speaker = f"{speaker} {message['agent']}"
        lines.append(f"[{_local(hours, message.get('timestamp'))}] {speaker}: {message.get('text', '')}")
    return "\n".join(lines) + "\n"


def export_json(ticket: Mapping[Text, Any]) -> Text:
    """The whole ticket with its transcript as pretty JSON (UTF-8, not escaped)."""
    body: Dict[Text, Any] = dict(ticket)
    return json.dumps(body, ensure_ascii=False, indent=2)
