"""nginx in front of several single-worker Rasa processes (`python -m bot run` with RASA_WORKERS > 1).

Why processes behind nginx rather than Sanic workers on one port: an Engine.IO session lives in one
process, and a socket.io client that starts with HTTP long-polling sends each request of its session
separately. Sanic's workers share one listening socket, so the kernel hands consecutive requests to any
worker (400 "Invalid session" on the others). nginx can route: every Rasa process gets a tag (`p1`, `p2`,
…), its Engine.IO session ids start with it (bot/channels/process_tag.py), and a `map` of `$arg_sid` sends
`/socket.io/` requests carrying a known prefix to that process. Everything else, and a socket.io request
without a sid (the handshake, a WebSocket-only client) or with an unknown prefix, goes round robin.
Every value of the map is a fixed upstream name written here: nothing from a request becomes an address.

Messenger's and Zalo's webhooks (`/webhooks/facebook/`, `/webhooks/zalo/`) go to the webhook ingress
(bot/webhook_ingress.py) when there is one: it acknowledges them without waiting behind the Rasa processes'
turns, which the consumers in those processes then run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Text, Tuple

from bot.channels.process_tag import TAG_PATTERN, sid_prefix

NGINX = "/usr/sbin/nginx"  # Debian's nginx-light (`make run` installs it when missing)
POOL = "rasa"  # the round-robin upstream
INGRESS = "webhook_ingress"  # the webhook ingress's upstream
WEBHOOK_PATHS = ("/webhooks/facebook/", "/webhooks/zalo/")  # what the ingress serves
# Rasa's own response timeout (`rasa run --response-timeout`, 1 hour): a REST turn waiting on a slow action
# is not cut shorter behind the proxy than without it; socket.io pings every 25 s on polling and WebSocket
PROXY_TIMEOUT = "3600s"


@dataclass(frozen=True)
class Backend:
    """One single-worker Rasa process: its tag (session id prefix) and its port on 127.0.0.1."""

    tag: Text
    port: int

    @property
    def name(self) -> Text:
        """Its process name in `System.processes` and its upstream name in nginx."""
        return f"rasa-{self.tag}"


def backends_for(ports: Sequence[int]) -> List[Backend]:
    """Backends p1, p2, … on `ports`."""
    return [Backend(f"p{index}", port) for index, port in enumerate(ports, start=1)]


def _listen_address(host: Text, port: int) -> Text:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ingress_parts(ingress_port: Optional[int]) -> Tuple[Text, Text]:
    """The ingress's upstream and its locations (nothing without an ingress)."""
    if ingress_port is None:
        return "", ""
    upstream = f"""
    # Messenger's and Zalo's webhooks: acknowledged by the webhook ingress (bot/webhook_ingress.py)
    upstream {INGRESS} {{
        server 127.0.0.1:{int(ingress_port)};
        keepalive 32;
    }}
"""
    locations = "".join(
        f"""
        location {path} {{
            proxy_pass http://{INGRESS};
            proxy_read_timeout 60s;
        }}
"""
        for path in WEBHOOK_PATHS
    )
    return upstream, locations


def nginx_config(
    host: Text,
    port: int,
    backends: Sequence[Backend],
    prefix: Path,
    max_body_bytes: int,
    workers: int = 1,
    ingress_port: Optional[int] = None,
) -> Text:
    """nginx.conf listening on host:port in front of `backends` (and of the webhook ingress on
    127.0.0.1:`ingress_port`, if given); logs, pid and temp files under `prefix`."""
    if not backends:
        raise ValueError("nginx needs at least one Rasa backend")
    for backend in backends:
        if not TAG_PATTERN.fullmatch(backend.tag):
            raise ValueError(f"bad backend tag {backend.tag!r}")
    if len({b.tag for b in backends}) != len(backends):
        raise ValueError("backend tags must differ")
    pool = "\n".join(f"        server 127.0.0.1:{b.port} max_fails=1 fail_timeout=5s;" for b in backends)
    sticky = "\n".join(
        f"    upstream {b.name} {{\n        server 127.0.0.1:{b.port};\n        keepalive 8;\n    }}"
        for b in backends
    )
    routes = "\n".join(f'        "~^{sid_prefix(b.tag)}" {b.name};' for b in backends)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {prefix}/temp/{kind};" for kind in kinds)
    ingress_upstream, ingress_locations = _ingress_parts(ingress_port)
    return f"""# written by `python -m bot run` (bot/proxy.py) on each start: do not edit
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    server_tokens off;
{temp}

    # WebSocket upgrade; no Upgrade header: no Connection header, so upstream connections are kept alive
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    upstream {POOL} {{
{pool}
        keepalive 32;
    }}
{sticky}
{ingress_upstream}
    # an Engine.IO session stays on the process that issued its id (bot/channels/process_tag.py); no sid
    # (handshake, WebSocket-only) or an unknown prefix: round robin. Only these upstream names, never an
    # address from the request.
    map $arg_sid $rasa_socketio {{
        default {POOL};
{routes}
    }}

    server {{
        listen {_listen_address(host, port)};
        # Rasa's own bound on a request body (SANIC_REQUEST_MAX_SIZE), held in memory: started as root,
        # nginx's workers run as another user that cannot write the temp folders `bot run` made, and a
        # body buffered to a file there was a 500; responses stream through instead of to a temp file
        client_max_body_size {max_body_bytes};
        client_body_buffer_size {max_body_bytes};
        proxy_max_temp_file_size 0;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_connect_timeout 5s;
        proxy_read_timeout {PROXY_TIMEOUT};
        proxy_send_timeout {PROXY_TIMEOUT};

        location /socket.io/ {{
            proxy_pass http://$rasa_socketio;
            proxy_buffering off;
        }}
{ingress_locations}
        # the REST webhook (and the Messenger and Zalo ones without an ingress), Rasa's HTTP API,
        # model-update status: round robin
        location / {{
            proxy_pass http://{POOL};
        }}
    }}
}}
"""


def nginx_binary() -> Text:
    """Debian's nginx, or the one on PATH; "" when there is none."""
    if Path(NGINX).exists():
        return NGINX
    return shutil.which("nginx") or ""


def nginx_command(binary: Text, prefix: Path, conf: Path) -> List[Text]:
    """nginx in the foreground with every path under `prefix` (no root-owned default path is used)."""
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    return [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf), "-g", "daemon off;"]
