"""`python -m staff users …`: accounts from the command line (operators, `python -m bot run`).

  bootstrap [--json]           the first admin (admin@senmart.local) when no account exists; prints its
                               one-time password once (to this terminal only, never to a log)
  list                         every account
  create NAME EMAIL ROLE       a new account with a one-time password
  reset-password EMAIL         a new one-time password
Redis is REDIS_URL (default: the embedded Redis of `make run`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Optional, Sequence, Text

from redis.exceptions import RedisError

from common.contracts import DEFAULT_REDIS_URL
from common.http import InvalidRequest
from common.redis_client import async_client
from common.staff_roles import ADMIN, ROLES
from staff.accounts import AccountStore
from staff.audit import AuditLog
from staff.sessions import SessionStore
from staff.settings import StaffSettings

FIRST_ADMIN_EMAIL = "admin@senmart.local"
FIRST_ADMIN_NAME = "Quản trị SenMart"  # the header reads "Quản trị SenMart · Quản trị viên"


async def bootstrap(accounts: AccountStore) -> Optional[Text]:
    """Create the first admin when there is no account; its one-time password, or None."""
    if await accounts.count():
        return None
    try:
        _, password = await accounts.create(FIRST_ADMIN_NAME, FIRST_ADMIN_EMAIL, ADMIN)
    except InvalidRequest:  # another process made it meanwhile
        return None
    return password


async def _run(args: argparse.Namespace) -> int:
    settings = StaffSettings.from_env()
    redis = async_client(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL, decode_responses=True)
    accounts = AccountStore(redis, settings.agent_capacity)
    audit = AuditLog(redis, settings.audit_retention_days)
    try:
        if args.action == "bootstrap":
            password = await bootstrap(accounts)
            if password:
                await audit.record(None, "user.bootstrap", FIRST_ADMIN_EMAIL, actor_name="command line")
            if args.json:
                print(
                    json.dumps({"created": bool(password), "email": FIRST_ADMIN_EMAIL, "password": password})
                )
            elif password:
                print(f"First admin: {FIRST_ADMIN_EMAIL}")
                print(f"One-time password (change it at first sign-in): {password}")
            else:
                print("Accounts exist already: nothing to do.")
        elif args.action == "list":
            for account in await accounts.all():
                state = "active" if account.active else "disabled"
                print(f"{account.id}  {account.email:<32} {account.role:<10} {state:<8} {account.name}")
        elif args.action == "create":
            account, password = await accounts.create(args.name, args.email, args.role)
            await audit.record(None, "user.invite", f"user:{account.id}", actor_name="command line")
            print(f"{account.email} ({account.role}): one-time password {password}")
        elif args.action == "reset-password":
            account = await accounts.by_email(args.email)
            if account is None:
                print(f"No account with the e-mail {args.email}.", file=sys.stderr)
                return 1
            password = await accounts.reset_password(account.id)
            sessions = SessionStore(redis, settings.session_idle_seconds, settings.session_max_seconds)
            await sessions.revoke_all(account.id)
            await audit.record(None, "password.reset", f"user:{account.id}", actor_name="command line")
            print(f"{account.email}: one-time password {password}")
    except InvalidRequest as problem:
        print(problem.message, file=sys.stderr)
        return 1
    except (OSError, RedisError) as problem:
        print(f"Redis is not reachable ({problem}); set REDIS_URL or start SenMart.", file=sys.stderr)
        return 1
    finally:
        await redis.close()
    return 0


def main(argv: Sequence[Text]) -> int:
    """Entry point of `python -m staff users …`."""
    parser = argparse.ArgumentParser(
        prog="python -m staff users",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", required=True)
    first = sub.add_parser("bootstrap", help="create the first admin when no account exists")
    first.add_argument("--json", action="store_true", help="print {created, email, password} as JSON")
    sub.add_parser("list", help="every account")
    create = sub.add_parser("create", help="a new account with a one-time password")
    create.add_argument("name")
    create.add_argument("email")
    create.add_argument("role", choices=ROLES)
    reset = sub.add_parser("reset-password", help="a new one-time password")
    reset.add_argument("email")
    return asyncio.run(_run(parser.parse_args(argv)))
