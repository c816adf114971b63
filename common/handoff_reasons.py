"""Why a conversation went to a person: the reasons of the handoff API (`POST /internal/handoffs`), which
the tickets, the console and the studio's report share."""

REASONS = (
    "request_human",
    "anger",
    "money_complaint",
    "low_confidence",
    "account_security",
    "partnership",
    "other",
)
# how people read them (the ticket's first system message, the transcript export, the studio's report)
REASON_LABELS = {
    "request_human": "Khách muốn gặp nhân viên",
    "anger": "Khách bực tức",
    "money_complaint": "Khiếu nại tiền",
    "low_confidence": "Bot chưa hiểu",
    "account_security": "Bảo mật tài khoản",
    "partnership": "Hợp tác, báo chí, tuyển dụng",
    "other": "Khác",
}


def reason_label(reason: str) -> str:
    """The Vietnamese label of a reason (the reason itself when unknown)."""
    return REASON_LABELS.get(reason, reason)
