"""Staff accounts in Redis (common/staff_keys.py): one hash per account, an index by lower-cased e-mail and
one by folded display name (customers see the name of the person answering them, so two people cannot
share one). Ids are opaque. The password hash never leaves this module."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from common import staff_keys as keys
from common.http import InvalidRequest
from common.staff_roles import ROLE_LABELS, ROLES, TICKET_ROLES, Principal
from common.text import fold
from staff.passwords import hash_password, needs_rehash, one_time_password, verify_password

# linear-time: no nested quantifiers
EMAIL_PATTERN = re.compile(r"\A[^@\s]{1,64}@[^@\s.]{1,63}(?:\.[^@\s.]{1,63}){1,8}\Z")
NAME_MAX = 60
CAPACITY_MAX = 100


class AccountNotFound(LookupError):
    """No account with that id."""


@dataclass(frozen=True)
class Account:
    """An account as the service shows it (never its password hash)."""

    id: Text
    name: Text
    email: Text
    role: Text
    active: bool
    must_change_password: bool
    capacity: int
    created_at: float

    def public(self) -> Dict[Text, Any]:
        """The JSON view (admin page, /auth/session)."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "role_label": ROLE_LABELS.get(self.role, self.role),
            "active": self.active,
            "must_change_password": self.must_change_password,
            "capacity": self.capacity,
            "created_at": self.created_at,
        }

    def principal(self) -> Principal:
        """Who this account is on a request."""
        return Principal(
            self.id,
            self.name,
            self.role,
            capacity=self.capacity if self.role in TICKET_ROLES else 0,
            must_change_password=self.must_change_password,
        )


def _account(fields: Dict[Text, Text]) -> Account:
    return Account(
        id=fields["id"],
        name=fields["name"],
        email=fields["email"],
        role=fields["role"],
        active=fields.get("active") == "1",
        must_change_password=fields.get("must_change") == "1",
        capacity=int(fields.get("capacity") or 0),
        created_at=float(fields.get("created_at") or 0),
    )


def check_email(value: object) -> Text:
    """A lower-cased e-mail address, or InvalidRequest."""
    email = value.strip().lower() if isinstance(value, str) else ""
    if not EMAIL_PATTERN.match(email):
        raise InvalidRequest("invalid_email", "Địa chỉ e-mail không hợp lệ.")
    return email


def check_name(value: object) -> Text:
    """A display name of 1-60 printable characters, or InvalidRequest."""
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise InvalidRequest("invalid_name", f"Tên hiển thị cần từ 1 đến {NAME_MAX} ký tự.")
    return name


def check_role(value: object) -> Text:
    """One of the roles, or InvalidRequest."""
    if value not in ROLES:
        raise InvalidRequest("invalid_role", "Vai trò phải là agent, supervisor, content hoặc admin.")
    return str(value)


def check_capacity(value: object) -> int:
    """A number of tickets between 1 and 100, or InvalidRequest."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= CAPACITY_MAX:
        raise InvalidRequest("invalid_capacity", f"Số phiếu tối đa phải từ 1 đến {CAPACITY_MAX}.")
    return value


class AccountStore:
    """Accounts in Redis; `default_capacity` is given to new accounts."""

    def __init__(self, redis, default_capacity: int = 5, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis  # redis.asyncio.Redis with decode_responses=True
        self.default_capacity = default_capacity
        self.clock = clock

    async def count(self) -> int:
        """How many accounts exist."""
        return await self.redis.scard(keys.USERS)

    async def get(self, user_id: Text) -> Optional[Account]:
        """The account, or None."""
        fields = await self.redis.hgetall(keys.user_key(user_id)) if user_id else {}
        return _account(fields) if fields and "id" in fields else None

    async def require(self, user_id: Text) -> Account:
        """The account, or AccountNotFound."""
        account = await self.get(user_id)
        if account is None:
            raise AccountNotFound(user_id)
        return account

    async def by_email(self, email: Text) -> Optional[Account]:
        """The account of an e-mail address (any case), or None."""
        user_id = await self.redis.get(keys.email_key(email))
        return await self.get(user_id) if user_id else None

    async def all(self) -> List[Account]:
        """Every account, by name."""
        ids = sorted(await self.redis.smembers(keys.USERS))
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id in ids:
                pipe.hgetall(keys.user_key(user_id))
            rows = await pipe.execute()
        return sorted((_account(row) for row in rows if row), key=lambda a: fold(a.name))

    async def create(
        self, name: object, email: object, role: object, capacity: Optional[object] = None
    ) -> Tuple[Account, Text]:
        """A new active account with a one-time password (returned once, to hand over; it must be
        changed at first sign-in). InvalidRequest when a field is bad or the e-mail or name is taken."""
        name, email, role = check_name(name), check_email(email), check_role(role)
        capacity = self.default_capacity if capacity is None else check_capacity(capacity)
        user_id = "u_" + secrets.token_hex(8)
        if not await self.redis.set(keys.email_key(email), user_id, nx=True):
            raise InvalidRequest("email_taken", "Đã có tài khoản dùng địa chỉ e-mail này.")
        if not await self.redis.set(keys.name_key(fold(name)), user_id, nx=True):
            await self.redis.delete(keys.email_key(email))
            raise InvalidRequest("name_taken", "Đã có nhân viên mang tên hiển thị này; hãy chọn tên khác.")
        password = one_time_password()
        fields = {
            "id": user_id,
            "name": name,
            "email": email,
            "role": role,
            "active": "1",
            "must_change": "1",
            "capacity": str(capacity),
            "password": hash_password(password),
            "created_at": repr(self.clock()),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.user_key(user_id), mapping=fields)
            pipe.sadd(keys.USERS, user_id)
            await pipe.execute()
        return _account(fields), password

    async def authenticate(self, email: Text, password: Text) -> Optional[Account]:
        """The account when the e-mail and password match (disabled ones too: the caller refuses them),
        else None. Costs one argon2 verification either way."""
        user_id = await self.redis.get(keys.email_key(email)) if email else None
        stored = await self.redis.hget(keys.user_key(user_id), "password") if user_id else None
        if not verify_password(stored or "", password or ""):
            return None
        if needs_rehash(stored):
            await self.redis.hset(keys.user_key(user_id), "password", hash_password(password))
        return await self.get(user_id)

    async def check_password(self, user_id: Text, password: Text) -> bool:
        """True when `password` is the account's current one."""
        stored = await self.redis.hget(keys.user_key(user_id), "password")
        return verify_password(stored or "", password or "")

    async def set_password(self, user_id: Text, password: Text, must_change: bool = False) -> None:
        """Store a new password (already checked by the caller)."""
        await self.require(user_id)
        await self.redis.hset(
            keys.user_key(user_id),
            mapping={"password": hash_password(password), "must_change": "1" if must_change else "0"},
        )

    async def reset_password(self, user_id: Text) -> Text:
        """A new one-time password for the account (returned once; must be changed at sign-in)."""
        password = one_time_password()
        await self.set_password(user_id, password, must_change=True)
        return password

    async def update(
        self,
        user_id: Text,
        role: Optional[object] = None,
        capacity: Optional[object] = None,
        active: Optional[object] = None,
    ) -> Account:
        """Change the role, capacity or active flag; AccountNotFound, InvalidRequest."""
        await self.require(user_id)
        changes: Dict[Text, Text] = {}
        if role is not None:
            changes["role"] = check_role(role)
        if capacity is not None:
            changes["capacity"] = str(check_capacity(capacity))
        if active is not None:
            if not isinstance(active, bool):
                raise InvalidRequest("invalid_active", "Trường active phải là true hoặc false.")
            changes["active"] = "1" if active else "0"
        if changes:
            await self.redis.hset(keys.user_key(user_id), mapping=changes)
        return await self.require(user_id)
