"""`name:token,name2:token2` settings (HANDOFF_AGENT_TOKENS, STUDIO_TOKENS) read into {token: name}."""

from __future__ import annotations

from typing import Dict, Text, Type


def parse_name_tokens(value: Text, variable: Text, error: Type[Exception]) -> Dict[Text, Text]:
    """`name:token,name2:token2` → {token: name}; empty items are skipped, a malformed one raises `error`
    naming `variable`."""
    tokens: Dict[Text, Text] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, token = item.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise error(f"{variable}: expected name:token, got {name.strip()!r}:…")
        tokens[token.strip()] = name.strip()
    return tokens
