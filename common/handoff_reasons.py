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
