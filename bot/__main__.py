"""Command line: `python -m bot run` starts the whole local system; `python -m bot webhooks [--retry]`
shows (and queues again) the webhook dead letters (the studio's report is `python -m studio.report`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from bot.services import ServiceError, System
from bot.settings import Settings


def run() -> int:
    """Start Redis, the staff service, the action server and Rasa (behind nginx, with the webhook ingress,
    when RASA_WORKERS > 1); print where to go; stop all on Ctrl-C or when one of them dies."""
    settings = Settings.from_env()
    system = System(settings)
    state = {"stopping": False, "started": False}

    def _stop(signum, frame):
        state["stopping"] = True
        if not state["started"]:
            raise KeyboardInterrupt  # abort the start-up; System.start stops what it started

    # explicit SIGINT handler too: a shell that starts us in the background ignores SIGINT,
    # and then Python would never raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    rasa = (
        "Rasa"
        if settings.rasa_workers == 1
        else f"{settings.rasa_workers} Rasa processes and the webhook ingress behind nginx"
    )
    parts = f"Redis, staff service, action server, {rasa}"
    print(f"Starting SenMart: {parts} (first start takes about a minute)...", flush=True)
    try:
        system.start()
    except (ServiceError, KeyboardInterrupt) as error:
        print(f"\nCould not start: {error or 'interrupted'}", file=sys.stderr)
        return 1
    state["started"] = True
    messenger_note = (
        "configured"
        if os.environ.get("FB_APP_SECRET")
        else "off: set FB_VERIFY_TOKEN, FB_APP_SECRET, FB_PAGE_ACCESS_TOKEN"
    )
    zalo_note = (
        "configured"
        if os.environ.get("ZALO_APP_ID") and os.environ.get("ZALO_OA_SECRET_KEY")
        else "off: set ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET_KEY, ZALO_REFRESH_TOKEN"
    )
    studio_token_note = "from STUDIO_TOKENS" if os.environ.get("STUDIO_TOKENS") else system.studio_token
    staff_url = f"http://localhost:{settings.handoff_port}"
    if system.first_admin.get("created"):
        admin_note = (
            f"  Sign in           : {staff_url}/signin as {system.first_admin['email']}\n"
            f"  One-time password : {system.first_admin['password']}"
            "  (shown once: change it at first sign-in)\n"
        )
    else:
        admin_note = f"  Sign in           : {staff_url}/signin with your account\n"
    redis_note = "REDIS_URL" if settings.redis_url else f"embedded, data in {settings.var_dir / 'redis'}"
    # with nginx, the webhook ingress acknowledges both webhooks; one Rasa process answers them itself
    ingress_line = (
        f"  Webhook ingress   : {system.ingress_url}/health (acknowledges the two webhooks above)\n"
        if settings.rasa_workers > 1
        else ""
    )
    print(
        "\nSenMart is running.\n"
        f"  Chat page         : {staff_url}/\n"
        f"{admin_note}"
        f"  Admin page        : {staff_url}/admin (users, audit log)\n"
        f"  Agent console     : {staff_url}/console\n"
        f"  Content studio    : {staff_url}/studio\n"
        f"  API tokens        : admin {system.admin_token}, content {studio_token_note} (for scripts)\n"
        f"  Rasa REST webhook : http://localhost:{settings.rasa_port}/webhooks/rest/webhook\n"
        f"  Rasa socket.io    : http://localhost:{settings.rasa_port}/socket.io\n"
        f"  Messenger webhook : http://localhost:{settings.rasa_port}/webhooks/facebook/webhook "
        f"({messenger_note})\n"
        f"  Zalo OA webhook   : http://localhost:{settings.rasa_port}/webhooks/zalo/webhook ({zalo_note})\n"
        f"{ingress_line}"
        f"  Action server     : http://127.0.0.1:{settings.action_port}/health (Rasa only: token required)\n"
        f"  Redis             : {system.redis.safe_url} ({redis_note})\n"
        f"  Rasa API token    : {system.rasa_auth_token}\n"
        f"  Logs              : {system.log_dir}\n"
        f"Try: curl -s localhost:{settings.rasa_port}/webhooks/rest/webhook "
        """-d '{"sender":"me","message":"phí ship bao nhiêu?"}'\n"""
        "Ctrl-C stops everything.",
        flush=True,
    )
    try:
        while not state["stopping"]:
            dead = [p.name for p in system.processes if not p.alive()]
            if dead:
                print(
                    f"Service stopped unexpectedly: {', '.join(dead)} (see {system.log_dir})", file=sys.stderr
                )
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping SenMart...", flush=True)
        system.stop()
    return 0


def webhooks(retry: bool) -> int:
    """Show the Messenger/Zalo webhook queues and their dead letters (sender ids masked); with `retry`,
    queue the dead letters again (after the fault, e.g. a wrong page token, was fixed)."""
    import asyncio

    from bot.channels.webhook_queue import WebhookQueue
    from common.privacy import mask_digits
    from common.webhook_keys import WEBHOOK_CHANNELS

    settings = Settings.from_env()
    url = settings.redis_url or f"redis://127.0.0.1:{settings.embedded_redis_port}/0"

    async def report() -> None:
        for channel in WEBHOOK_CHANNELS:
            queue = WebhookQueue(url, channel, "")
            try:
                waiting = await queue.redis.xlen(queue.stream)
                letters = await queue.dead_letters(limit=1000)
                print(f"{channel}: {waiting} waiting, {len(letters)} dead letters")
                for letter in letters[:20]:
                    failed = time.strftime("%Y-%m-%d %H:%M", time.localtime(letter.get("failed_at") or 0))
                    sender = mask_digits(str(letter.get("sender_id") or "")) or "?"
                    print(f"  {failed}  {sender}  {letter.get('message_id')}  {letter.get('error')}")
                if retry and letters:
                    print(f"  queued again: {await queue.retry_dead_letters()}")
            finally:
                await queue.stop()

    from redis.exceptions import RedisError

    try:
        asyncio.run(report())
    except (OSError, RedisError) as error:
        print(f"Redis at {url} is not reachable ({error}); is SenMart running?", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    """Entry point of `python -m bot`."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start Redis, action server, Rasa server and the staff service")
    queues = sub.add_parser("webhooks", help="Messenger/Zalo webhook queues and their dead letters")
    queues.add_argument("--retry", action="store_true", help="queue the dead letters again")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run()
    if args.command == "webhooks":
        return webhooks(args.retry)
    return 2


if __name__ == "__main__":
    sys.exit(main())
