"""Engine.IO session ids that name the Rasa process holding the session, for sticky routing by nginx.

An Engine.IO session lives in one process. A client that starts with HTTP long-polling (socket.io's
default, and every client behind a proxy that blocks WebSockets) sends each poll, and then the WebSocket
upgrade, as a new HTTP request carrying `?sid=<session id>`; a request that lands on another process gets
400 "Invalid session". `python -m bot run` with several Rasa processes gives each one a tag
(`RASA_PROCESS_TAG=p1`, `p2`, …) and the nginx in front of them (bot/proxy.py) sends a request whose `sid`
starts with `p1-` to process p1; the handshake (no sid yet) and WebSocket-only connections go round robin.

The id stays what python-engineio makes (`generate_id`: 20 URL-safe base64 characters), behind the tag:
`p1-Xq3…`. Clients treat the sid as an opaque string and send it back URL-encoded; tag and id use only
`[A-Za-z0-9_-]`, which need no encoding. python-socketio also names its namespace sessions with
`eio.generate_id()`, so those carry the tag too (harmless: they are only room names).
"""

from __future__ import annotations

import os
import re
from typing import Mapping, Optional, Text

import engineio
import socketio

PROCESS_TAG_ENV = "RASA_PROCESS_TAG"
TAG_PATTERN = re.compile(r"[A-Za-z0-9]{1,16}")
SEPARATOR = "-"


def process_tag(env: Optional[Mapping[Text, Text]] = None) -> Text:
    """This process's tag from RASA_PROCESS_TAG ("" when unset); anything but 1-16 letters or digits is
    refused: the tag goes into URLs and into nginx's routing map."""
    tag = (os.environ if env is None else env).get(PROCESS_TAG_ENV, "").strip()
    if tag and not TAG_PATTERN.fullmatch(tag):
        raise ValueError(f"{PROCESS_TAG_ENV} must be 1-16 letters or digits (got {tag!r})")
    return tag


def sid_prefix(tag: Text) -> Text:
    """What every session id of the process tagged `tag` starts with (nginx matches it)."""
    return f"{tag}{SEPARATOR}"


class TaggedEngineIOServer(engineio.AsyncServer):
    """python-engineio's server whose session ids start with `sid_prefix` ("" = unchanged ids)."""

    sid_prefix: Text = ""

    def generate_id(self) -> Text:
        """engineio's unique URL-safe id behind this process's prefix."""
        return self.sid_prefix + super().generate_id()


def tag_session_ids(sio: socketio.AsyncServer, tag: Text) -> None:
    """Make `sio`'s Engine.IO server issue ids starting with `tag-`.

    Rasa's SocketIOInput builds a plain `socketio.AsyncServer` inside `blueprint()` and offers no hook for
    another class, so the channel turns the Engine.IO server it built into the subclass above: the same
    object and state (no client is connected yet), with `generate_id` overridden. No tag: nothing changes.
    """
    if not tag:
        return
    if not isinstance(sio.eio, TaggedEngineIOServer):
        if type(sio.eio) is not engineio.AsyncServer:
            raise TypeError(f"unexpected Engine.IO server {type(sio.eio).__name__}")
        sio.eio.__class__ = TaggedEngineIOServer
    sio.eio.sid_prefix = sid_prefix(tag)
