"""deploy-smoke's driver (deploy/smoke/run.sh starts it once the stack is healthy): every customer channel
through nginx, every reply accounted for.

    drive.py                    # from the host: the whole run; exit 1 on a missing reply or a failed check
    drive.py socketio --url https://nginx --websocket 3 --polling 3
                                # socket.io conversations only, results as JSON (run in client containers
                                # on the compose network: nginx keeps a client on one Rasa replica by its
                                # address, so clients from several addresses reach both replicas)

Each conversation asks "phí ship bao nhiêu" and counts as answered when a reply containing "25.000đ" comes
back: `bot_uttered` on its socket.io session, a Send API call to its PSID at the Graph API stand-in, a CS
message to its user at the Zalo stand-in (webhooks are polled for up to REPLY_SECONDS: they may answer 200
before the turn runs), or the REST webhook's answer (inside the network: nginx keeps REST off the internet).
Reads the throwaway secrets run.sh generated from the environment (var/deploy-smoke/env).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from typing import Any, Dict, List, Optional

import aiohttp
import socketio

# python-engineio 4.15's asyncio client builds an aiohttp.ClientWSTimeout (aiohttp 3.10+) for WebSocket;
# the pinned aiohttp 3.9 takes the close timeout as a number (client side only: Rasa's server is Sanic)
if not hasattr(aiohttp, "ClientWSTimeout"):
    aiohttp.ClientWSTimeout = lambda ws_close=10.0, **_: ws_close

QUESTION = "phí ship bao nhiêu"
EXPECTED = "25.000đ"
REPLY_SECONDS = 30.0
# a webhook delivery not acknowledged with 200 is sent again, as Meta and Zalo redeliver (the ingress answers
# 503 while Redis does not answer, e.g. while podman's DNS reloads as the client containers come and go)
REDELIVERIES = 4
FB_PAGE_ID = "104857612345678"
ZALO_OA_ID = "579745863508352884"


# -- socket.io -----------------------------------------------------------------------------------------------
async def socket_conversation(url: str, transport: str, origin: str) -> Dict[str, Any]:
    """One chat-page conversation over one transport: connect, session_request, ask, wait for the answer."""
    loop = asyncio.get_running_loop()
    confirmed: asyncio.Future = loop.create_future()
    answered: asyncio.Future = loop.create_future()
    replies: List[str] = []
    client = socketio.AsyncClient(reconnection=False, ssl_verify=False)

    def on_confirm(session_id: Any) -> None:
        if not confirmed.done():
            confirmed.set_result(session_id)

    def on_bot(data: Any) -> None:
        text = (data or {}).get("text") or "" if isinstance(data, dict) else ""
        replies.append(text)
        if EXPECTED in text and not answered.done():
            answered.set_result(text)

    client.on("session_confirm", on_confirm)
    client.on("bot_uttered", on_bot)
    result: Dict[str, Any] = {"transport": transport, "answered": False, "session": None, "error": None}
    started = time.monotonic()
    try:
        # "upgrade": what the chat page does (a polling handshake, then the WebSocket upgrade)
        transports = ["polling", "websocket"] if transport == "upgrade" else [transport]
        await client.connect(
            url,
            transports=transports,
            socketio_path="socket.io",
            headers={"Origin": origin},
            wait_timeout=15,
        )
        await client.emit("session_request", {})
        result["session"] = await asyncio.wait_for(confirmed, 15)
        asked = time.monotonic()
        await client.emit("user_uttered", {"message": QUESTION, "session_id": result["session"]})
        await asyncio.wait_for(answered, REPLY_SECONDS)
        result.update(answered=True, seconds=round(time.monotonic() - asked, 2))
    except Exception as error:  # - every failure is one missing reply, reported with its cause
        result["error"] = f"{type(error).__name__}: {error}"[:200]
        result["replies"] = replies
    finally:
        result["total_seconds"] = round(time.monotonic() - started, 2)
        try:
            await client.disconnect()
        except Exception:
            pass
    return result


async def socket_conversations(
    url: str, origin: str, websocket: int, polling: int, upgrade: int
) -> List[Dict[str, Any]]:
    """Every conversation at once, started 50 ms apart (a burst of customers, not a benchmark)."""

    async def later(delay: float, transport: str) -> Dict[str, Any]:
        await asyncio.sleep(delay)
        return await socket_conversation(url, transport, origin)

    kinds = ["websocket"] * websocket + ["polling"] * polling + ["upgrade"] * upgrade
    random.shuffle(kinds)
    return list(await asyncio.gather(*(later(i * 0.05, kind) for i, kind in enumerate(kinds))))


async def socket_in_containers(args: argparse.Namespace, env: Dict[str, str]) -> List[Dict[str, Any]]:
    """The same conversations from client containers on the compose network (one address each)."""
    here = os.path.dirname(os.path.abspath(__file__))
    command = [
        "podman", "run", "--rm", "--network", f"{env['SMOKE_PROJECT']}_default",
        "-v", f"{here}/drive.py:/smoke/drive.py:ro", env["SMOKE_IMAGE"],
        "python", "/smoke/drive.py", "socketio", "--url", "https://nginx",
        "--origin", env["CHAT_ALLOWED_ORIGINS"].split()[0].rstrip(","),
        "--websocket", str(args.container_websocket), "--polling", str(args.container_polling),
        "--upgrade", str(args.container_upgrade),
    ]  # fmt: skip

    async def one(index: int) -> List[Dict[str, Any]]:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        try:
            results = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            print(
                f"client container {index} failed ({process.returncode}): {err.decode()[-800:]}",
                file=sys.stderr,
            )
            kinds = (
                ["websocket"] * args.container_websocket
                + ["polling"] * args.container_polling
                + ["upgrade"] * args.container_upgrade
            )
            results = [{"transport": k, "answered": False, "error": "client container failed"} for k in kinds]
        for result in results:
            result["client"] = f"container {index}"
        return results

    batches = await asyncio.gather(*(one(i) for i in range(args.containers)))
    return [result for batch in batches for result in batch]


# -- webhooks ------------------------------------------------------------------------------------------------
def messenger_body(psid: str) -> bytes:
    now = int(time.time() * 1000)
    event = {
        "sender": {"id": psid},
        "recipient": {"id": FB_PAGE_ID},
        "timestamp": now,
        "message": {"mid": f"m_{uuid.uuid4().hex}", "text": QUESTION},
    }
    body = {"object": "page", "entry": [{"id": FB_PAGE_ID, "time": now, "messaging": [event]}]}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def messenger_headers(raw: bytes, env: Dict[str, str]) -> Dict[str, str]:
    mac = hmac.new(env["FB_APP_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + mac}


def zalo_body(user: str, env: Dict[str, str]) -> "tuple[bytes, Dict[str, str]]":
    timestamp = str(int(time.time() * 1000))
    body = {
        "app_id": env["ZALO_APP_ID"],
        "user_id_by_app": str(random.randint(10**18, 10**19 - 1)),
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": ZALO_OA_ID},
        "message": {"msg_id": uuid.uuid4().hex, "text": QUESTION},
        "timestamp": timestamp,
    }
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    material = env["ZALO_APP_ID"].encode() + raw + timestamp.encode() + env["ZALO_OA_SECRET_KEY"].encode()
    headers = {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": "mac=" + hashlib.sha256(material).hexdigest(),
    }
    return raw, headers


async def webhooks(
    session: aiohttp.ClientSession, base: str, standins: str, env: Dict[str, str], messenger: int, zalo: int
) -> List[Dict[str, Any]]:
    """Signed webhook deliveries through nginx, then the stand-ins polled until every user has its answer."""
    posts = []
    for _ in range(messenger):
        psid = str(random.randint(10**15, 10**16 - 1))
        raw = messenger_body(psid)
        posts.append(("messenger", psid, "/webhooks/facebook/webhook", raw, messenger_headers(raw, env)))
    for _ in range(zalo):
        user = str(random.randint(10**18, 10**19 - 1))
        raw, headers = zalo_body(user, env)
        posts.append(("zalo", user, "/webhooks/zalo/webhook", raw, headers))

    async def deliver(
        channel: str, user: str, path: str, raw: bytes, headers: Dict[str, str]
    ) -> Dict[str, Any]:
        """POST until acknowledged, as Meta and Zalo do: a delivery that is not answered 200 is sent again
        (REDELIVERIES times at the most, the wait doubling from 1 s); every refused attempt is kept."""
        result: Dict[str, Any] = {"channel": channel, "user": user, "answered": False, "error": None}
        result["refused"] = refused = []
        for attempt in range(REDELIVERIES + 1):
            if attempt:
                await asyncio.sleep(2 ** (attempt - 1))
            started = time.monotonic()
            try:
                async with session.post(base + path, data=raw, headers=headers, ssl=False) as response:
                    result["status"] = response.status
                    result["ack_seconds"] = round(time.monotonic() - started, 2)
                    if response.status == 200:
                        result["error"] = None
                        break
                    result["error"] = f"HTTP {response.status}: {(await response.text())[:200]}"
            except Exception as error:
                result["error"] = f"{type(error).__name__}: {error}"[:200]
            refused.append(result["error"])
        result["posted"] = time.monotonic()
        return result

    results = list(await asyncio.gather(*(deliver(*p) for p in posts)))
    deadline = time.monotonic() + REPLY_SECONDS
    while True:
        async with session.get(standins + "/sent") as response:
            sent = await response.json()
        for result in results:
            if result["answered"] or result["error"]:
                continue
            texts = [
                s["text"] or ""
                for s in sent[result["channel"]]
                if s["recipient"] == result["user"] and s["ok"]
            ]
            if any(EXPECTED in text for text in texts):
                result.update(answered=True, seconds=round(time.monotonic() - result["posted"], 1))
            elif texts:
                result["replies"] = texts
        waiting = [r for r in results if not r["answered"] and not r["error"]]
        if not waiting or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    for result in results:
        if not result["answered"] and not result["error"]:
            result["error"] = f"no answer at the stand-in within {REPLY_SECONDS:.0f} s"
    failed_sends = [s for channel in ("messenger", "zalo") for s in sent[channel] if not s["ok"]]
    if failed_sends:
        print(f"stand-ins refused {len(failed_sends)} sends: {failed_sends[:3]}", file=sys.stderr)
    return results


# -- inside the network --------------------------------------------------------------------------------------
REST_SCRIPT = """
import json, os, sys, time, urllib.request
results = []
for sender in sys.argv[1:]:
    request = urllib.request.Request("http://rasa:5005/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": %r}).encode(),
        headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        texts = [m.get("text") or "" for m in json.load(urllib.request.urlopen(request, timeout=60))]
        results.append({"user": sender, "answered": any(%r in t for t in texts), "replies": texts,
                        "seconds": round(time.monotonic() - started, 2)})
    except Exception as error:
        results.append({"user": sender, "answered": False, "error": repr(error)[:200]})
print(json.dumps(results))
""" % (QUESTION, EXPECTED)

TRACKER_SCRIPT = """
import json, os, sys, urllib.request
out = {}
for session in sys.argv[1:]:
    url = "http://rasa:5005/conversations/%s/tracker?token=" % session + os.environ["RASA_AUTH_TOKEN"]
    try:
        events = json.load(urllib.request.urlopen(url, timeout=20))["events"]
        out[session] = [e.get("text") for e in events if e.get("event") in ("user", "bot")]
    except Exception as error:
        out[session] = repr(error)[:200]
print(json.dumps(out, ensure_ascii=False))
"""


def in_network(env: Dict[str, str], script: str, *args: str) -> Any:
    """Run a Python script in a handoff container (it has RASA_AUTH_TOKEN and reaches rasa:5005)."""
    out = subprocess.run(
        ["podman", "exec", "-i", f"{env['SMOKE_PROJECT']}_handoff_1", "python", "-", *args],
        input=script.encode(), capture_output=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.decode().strip().splitlines()[-1])


def container_ip(name: str) -> str:
    return subprocess.run(
        ["podman", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip


# -- checks of the public side -------------------------------------------------------------------------------
async def page_checks(
    session: aiohttp.ClientSession, base: str, http_base: str
) -> List["tuple[str, bool, str]"]:
    checks = []

    async def check(
        name: str, url: str, want: int, contains: Optional[str] = None, location: Optional[str] = None
    ):
        try:
            async with session.get(url, ssl=False, allow_redirects=False) as response:
                text = await response.text(errors="replace")
                ok = response.status == want and (contains is None or contains in text)
                detail = f"HTTP {response.status}"
                if location is not None:
                    ok = ok and response.headers.get("Location") == location
                    detail += f" → {response.headers.get('Location')}"
        except Exception as error:
            ok, detail = False, f"{type(error).__name__}: {error}"[:200]
        checks.append((name, ok, detail))

    await check("chat page served (/)", base + "/", 200, "<title>SenMart")
    await check("socket.io client served", base + "/chat/vendor/socket.io.min.js", 200)
    await check("handoff /health", base + "/health", 200)
    # staff pages are behind the sign-in (staff/pages.py): /studio sends an anonymous visitor to it
    await check("studio page asks to sign in", base + "/studio", 302, location="/signin?next=/studio")
    await check("sign-in page served", base + "/signin", 200, "<title>")
    public = base.replace("127.0.0.1", "localhost")
    await check(
        "HTTP → HTTPS redirect keeps the HTTPS port",
        http_base.replace("127.0.0.1", "localhost") + "/chat/?x=1",
        301,
        location=public + "/chat/?x=1",
    )
    await check("REST webhook not public (404)", base + "/webhooks/rest/webhook", 404)
    await check("Rasa HTTP API not public (404)", base + "/conversations/x/tracker", 404)
    await check("/metrics not public (404)", base + "/metrics", 404)
    return checks


def replica_spread(env: Dict[str, str]) -> Dict[str, Dict[str, int]]:
    """Requests per upstream address in nginx's access log, per route, named after the containers."""
    project = env["SMOKE_PROJECT"]
    names = {}
    for index in (1, 2, 3, 4):
        for service in ("rasa", "ingress", "handoff"):
            try:
                names[container_ip(f"{project}_{service}_{index}")] = f"{service}_{index}"
            except subprocess.CalledProcessError:
                pass
    log = subprocess.run(["podman", "logs", f"{project}_nginx_1"], capture_output=True, text=True).stdout
    spread: Dict[str, Dict[str, int]] = collections.defaultdict(collections.Counter)
    for line in log.splitlines():
        match = re.search(r'"[A-Z]+ (/[^ ]*) [^"]*" \d+ \d+ [\d.]+ upstream=(\S+)', line)
        if not match:
            continue
        path, upstream = match.groups()
        route = (
            "/socket.io/" if path.startswith("/socket.io/") else path.split("/webhooks/")[-1].split("/")[0]
        )
        if path.startswith("/webhooks/"):
            route = "/webhooks/" + route + "/"
        elif route != "/socket.io/":
            continue
        for address in upstream.split(","):
            address = address.strip().split(":")[0]
            spread[route][names.get(address, address)] += 1
    return {route: dict(counter) for route, counter in spread.items()}


# -- the whole run -------------------------------------------------------------------------------------------
async def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    base, http_base = env["SMOKE_BASE_URL"], env["SMOKE_HTTP_URL"]
    origin = env["CHAT_ALLOWED_ORIGINS"].split()[0].rstrip(",")
    standins = f"http://{container_ip(env['SMOKE_PROJECT'] + '_standins_1')}:9080"
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as session:
        checks = await page_checks(session, base, http_base)
        host_socket, container_socket, hooks = await asyncio.gather(
            socket_conversations(base, origin, args.websocket, args.polling, args.upgrade),
            socket_in_containers(args, env),
            webhooks(session, base, standins, env, args.messenger, args.zalo),
        )
    for result in host_socket:
        result["client"] = "host"
    rest = in_network(env, REST_SCRIPT, *[f"smoke-rest-{uuid.uuid4().hex[:8]}" for _ in range(args.rest)])
    elapsed = time.monotonic() - started

    rows = []
    for transport in ("websocket", "polling", "upgrade"):
        for where, results in (
            ("host → 127.0.0.1", host_socket),
            ("client containers → nginx", container_socket),
        ):
            mine = [r for r in results if r["transport"] == transport]
            label = "polling → WebSocket" if transport == "upgrade" else transport + " only"
            rows.append((f"chat socket.io {label}", where, mine))
    rows.append(("Messenger webhook", "host → 127.0.0.1", [r for r in hooks if r["channel"] == "messenger"]))
    rows.append(("Zalo webhook", "host → 127.0.0.1", [r for r in hooks if r["channel"] == "zalo"]))
    rows.append(("REST webhook", "inside the network", rest))

    print("\nchecks")
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    print(f"\nreplies (question {QUESTION!r}, answered = a reply containing {EXPECTED!r})")
    print(f"  {'channel':<36}{'from':<28}{'sent':>6}{'answered':>10}{'missing':>9}{'slowest s':>11}")
    total_sent = total_missing = 0
    for name, where, results in rows:
        answered = [r for r in results if r["answered"]]
        slowest = max((r.get("seconds", 0) for r in answered), default=0)
        missing = len(results) - len(answered)
        total_sent += len(results)
        total_missing += missing
        print(f"  {name:<36}{where:<28}{len(results):>6}{len(answered):>10}{missing:>9}{slowest:>11}")
    print(f"  {'total':<64}{total_sent:>6}{total_sent - total_missing:>10}{total_missing:>9}")
    print(f"  ({elapsed:.0f} s)")
    redelivered = [r for r in hooks if r["refused"]]
    if redelivered:
        reasons = collections.Counter(error.split(":")[0] for r in redelivered for error in r["refused"])
        print(f"  webhook deliveries refused, then sent again (as Meta and Zalo do): {len(redelivered)}")
        print(f"  refusals: {dict(reasons)}")

    missing = [r for _, _, results in rows for r in results if not r["answered"]]
    if missing:
        print("\nmissing replies")
        sessions = [r["session"] for r in missing if r.get("session")]
        trackers = in_network(env, TRACKER_SCRIPT, *sessions) if sessions else {}
        for r in missing:
            print(f"  {json.dumps({k: v for k, v in r.items() if k != 'posted'}, ensure_ascii=False)}")
            if r.get("session"):
                print(f"    Rasa's tracker of {r['session']}: {trackers.get(r['session'])}")
    print("\nrequests per replica (nginx access log)")
    for route, counter in sorted(replica_spread(env).items()):
        print(f"  {route:<22}{counter}")
    failed_checks = [c for c in checks if not c[1]]
    if failed_checks or missing:
        print(f"\ndeploy-smoke: FAILED ({len(missing)} missing replies, {len(failed_checks)} failed checks)")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--websocket", type=int, default=int(os.environ.get("SMOKE_WEBSOCKET", 10)))
    parser.add_argument("--polling", type=int, default=int(os.environ.get("SMOKE_POLLING", 10)))
    parser.add_argument("--containers", type=int, default=int(os.environ.get("SMOKE_CLIENT_CONTAINERS", 4)))
    parser.add_argument("--container-websocket", type=int, default=3)
    parser.add_argument("--container-polling", type=int, default=3)
    parser.add_argument("--upgrade", type=int, default=int(os.environ.get("SMOKE_UPGRADE", 5)))
    parser.add_argument("--container-upgrade", type=int, default=2)
    parser.add_argument("--messenger", type=int, default=int(os.environ.get("SMOKE_MESSENGER", 10)))
    parser.add_argument("--zalo", type=int, default=int(os.environ.get("SMOKE_ZALO", 10)))
    parser.add_argument("--rest", type=int, default=4)
    one = sub.add_parser("socketio", help="socket.io conversations only, results as JSON on the last line")
    one.add_argument("--url", required=True)
    one.add_argument("--origin", required=True)
    one.add_argument("--websocket", type=int, default=3)
    one.add_argument("--polling", type=int, default=3)
    one.add_argument("--upgrade", type=int, default=2)
    args = parser.parse_args()
    if args.command == "socketio":
        results = asyncio.run(
            socket_conversations(args.url, args.origin, args.websocket, args.polling, args.upgrade)
        )
        print(json.dumps(results, ensure_ascii=False))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
