"""The classroom layout: N app processes behind nginx, with sticky sessions, on one port.

    python scripts/classroom.py start [--port 8501] [--replicas N] [--host 0.0.0.0]   # foreground; Ctrl+C stops all
    python scripts/classroom.py stop                                                  # stops a layout started elsewhere

One Streamlit process runs every session's script under one interpreter lock, so it uses about one
core however many students wait (docs/PERFORMANCE.md). Here each replica is its own process, started
by scripts/serve.py (every model loaded before it listens), and nginx spreads sessions over them. A
session's websocket, its uploads and its reruns must reach the replica that holds it, so nginx pins a
browser to a replica with a cookie it sets on the first response (consistent hashing of the cookie; a
client without cookies is placed by its request id). If a replica dies, nginx sends its sessions to
another one, where the page starts a new session.

Nothing is written outside `.classroom/` in the project (nginx's config, pid, logs and temp files).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = PROJECT_ROOT / ".classroom"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COOKIE = "rnndemo_replica"
# Two app processes per core: one process's Python runs on one interpreter lock, and on 2 cores two replicas held
# a class of 80 on Compare at p95 4.05 s while four held it at 1.91 s (docs/PERFORMANCE.md, 2026-12-06).
MAX_REPLICAS = 16
DEFAULT_REPLICAS = min(MAX_REPLICAS, 2 * (os.cpu_count() or 1))  # each takes ~1.3 GB (docs/DEPLOY.md)
CONTENT_SECURITY_POLICY = (
    "frame-ancestors 'none'; default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' wss: ws:; worker-src 'self' blob:"
)

NGINX_CONFIG = """# Written by scripts/classroom.py; regenerated on every start.
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    # Which replica served each request and websocket (logged when it closes): the tests read it, and it is
    # where to look when one student's page misbehaves. No addresses or paths, only the sticky key.
    # Fields are separated by "|": $upstream_addr lists every replica tried ("a, b") when one was down.
    log_format replica '$time_iso8601|$rnndemo_sticky|$upstream_addr|$status|$request_method $uri';
    access_log {run}/access.log replica;
    server_tokens off;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    # The batch page takes files up to {upload_megabytes} MB (server.maxUploadSize), plus the form's overhead.
    client_max_body_size {body_megabytes}m;
    # The replica a browser is pinned to: its cookie, or (first visit, or a client without cookies) its request id.
    map $cookie_{cookie} $rnndemo_sticky {{
        "" $request_id;
        default $cookie_{cookie};
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" close;
    }}
    upstream rnndemo {{
        hash $rnndemo_sticky consistent;
{servers}
    }}
    server {{
        listen {host}:{port};
        location = /_stcore/metrics {{ deny all; }}
        location / {{
            proxy_pass http://rnndemo;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # A session's websocket stays open for the whole lesson.
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_buffering off;
            # A replica that is down: the request (and the reconnecting websocket) goes to the next one.
            proxy_next_upstream error timeout http_502 http_503;
            add_header Set-Cookie "{cookie}=$rnndemo_sticky; Path=/; HttpOnly; SameSite=Lax" always;
            # The headers Streamlit cannot send itself (docs/DEPLOY.md, docs/SECURITY.md).
            add_header X-Frame-Options "DENY" always;
            add_header Content-Security-Policy "{policy}" always;
            add_header X-Content-Type-Options "nosniff" always;
            add_header Referrer-Policy "no-referrer" always;
        }}
    }}
}}
"""


def free_ports(count: int) -> list[int]:
    """Loopback ports that are free now, for the replicas."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def write_nginx_config(port: int, host: str, replica_ports: list[int], upload_megabytes: int = 10) -> Path:
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (RUN_DIR / "tmp" / folder).mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{replica} max_fails=1 fail_timeout=5s;" for replica in replica_ports)
    config = NGINX_CONFIG.format(
        run=RUN_DIR,
        cookie=COOKIE,
        policy=CONTENT_SECURITY_POLICY,
        servers=servers,
        host=host,
        port=port,
        upload_megabytes=upload_megabytes,
        body_megabytes=upload_megabytes + 1,
    )
    path = RUN_DIR / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    return path


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().decode() == "ok"
    except OSError:
        return False


def start_replica(port: int, index: int, environment: dict) -> subprocess.Popen:
    log = open(RUN_DIR / f"replica-{index}.log", "w", encoding="utf-8")  # noqa: SIM115 — the child keeps it
    return subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--server.port", str(port)]
        + ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_healthy(urls: list[str], processes: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.time() + timeout
    waiting = set(urls)
    while waiting:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a replica exited with code {process.returncode} (see {RUN_DIR}/replica-*.log)")
        waiting = {url for url in waiting if not healthy(url)}
        if waiting and time.time() > deadline:
            raise RuntimeError(f"replicas not healthy after {timeout:.0f} s: {sorted(waiting)}")
        if waiting:
            time.sleep(0.5)


class Classroom:
    """A running layout: `replica_urls`, `url` (nginx), and `stop()`; a context manager."""

    def __init__(
        self,
        port: int,
        replicas: int,
        host: str = "127.0.0.1",
        timeout: float = 240.0,
        extra_env: dict | None = None,
    ) -> None:
        if not Path(NGINX).exists():
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx; `make test` installs it)")
        RUN_DIR.mkdir(exist_ok=True)
        # One cookie secret for every replica: a session that moves to another replica (its own died) keeps
        # a valid XSRF cookie, so its uploads still work there.
        self.environment = dict(
            os.environ,
            PYTHONPATH=str(PROJECT_ROOT),
            STREAMLIT_SERVER_COOKIE_SECRET=secrets.token_hex(32),
            **(extra_env or {}),
        )
        ports = free_ports(replicas)
        self.replica_urls = [f"http://127.0.0.1:{replica}" for replica in ports]
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        # Replicas load one after the other: two loading at once share 2 cores and double each start.
        self.replicas: list[subprocess.Popen] = []
        self.nginx: subprocess.Popen | None = None
        try:
            for index, (replica, url) in enumerate(zip(ports, self.replica_urls, strict=True)):
                self.replicas.append(start_replica(replica, index, self.environment))
                wait_until_healthy([url], self.replicas, timeout)
            config = write_nginx_config(port, host, ports)
            self.nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(RUN_DIR)], cwd=RUN_DIR)
            wait_until_healthy([self.url], [*self.replicas, self.nginx], timeout=30)
        except BaseException:
            self.stop()
            raise
        # The supervisor first: `stop` ends it, and it stops the rest (no restarts after a stop).
        pids = [os.getpid(), *(process.pid for process in self.processes)]
        (RUN_DIR / "pids").write_text(" ".join(map(str, pids)), encoding="utf-8")

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [*self.replicas, *([self.nginx] if self.nginx else [])]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        (RUN_DIR / "pids").unlink(missing_ok=True)

    def supervise(self, poll_seconds: float = 1.0) -> None:
        """Until nginx exits: restart a replica that died (its sessions have moved to the others meanwhile)."""
        while self.nginx is not None and self.nginx.poll() is None:
            for index, process in enumerate(self.replicas):
                if process.poll() is not None:
                    print(f"replica {index} exited ({process.returncode}); restarting it", file=sys.stderr, flush=True)
                    port = int(self.replica_urls[index].rsplit(":", 1)[1])
                    self.replicas[index] = start_replica(port, index, self.environment)
            time.sleep(poll_seconds)
        print("nginx exited; stopping the replicas", file=sys.stderr, flush=True)

    def __enter__(self) -> Classroom:
        return self

    def __exit__(self, *exception) -> None:
        self.stop()


def _stop_on_terminate(*_) -> None:
    raise KeyboardInterrupt


def stop_recorded(timeout: float = 30.0) -> int:
    """Stop the layout whose pids `start` recorded (from another terminal): the supervisor, then any leftover."""
    pids_file = RUN_DIR / "pids"
    if not pids_file.exists():
        print("no classroom layout is running (no .classroom/pids)")
        return 0
    pids = [int(pid) for pid in pids_file.read_text(encoding="utf-8").split()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if pid == pids[0]:  # let the supervisor stop its children before anyone else is signalled
            deadline = time.time() + timeout
            while _alive(pid) and time.time() < deadline:
                time.sleep(0.2)
    pids_file.unlink(missing_ok=True)
    print("stopped the classroom layout")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="N app replicas behind nginx with sticky sessions")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start the layout in the foreground (Ctrl+C stops it)")
    start.add_argument("--port", type=int, default=8501, help="nginx's port (default 8501)")
    start.add_argument("--replicas", type=int, default=DEFAULT_REPLICAS, help="app processes (default: 2 per core)")
    start.add_argument("--host", default="0.0.0.0", help="nginx's address (default: every interface)")
    commands.add_parser("stop", help="stop a layout started by `start`")
    parsed = parser.parse_args(arguments)
    if parsed.command == "start" and not (1 <= parsed.port <= 65535 and 1 <= parsed.replicas <= MAX_REPLICAS):
        parser.error(f"--port must be 1-65535 and --replicas 1-{MAX_REPLICAS}")
    return parsed


def main(arguments: list[str] | None = None) -> int:
    parsed = parse_arguments(sys.argv[1:] if arguments is None else arguments)
    if parsed.command == "stop":
        return stop_recorded()
    started = time.perf_counter()
    with Classroom(parsed.port, parsed.replicas, parsed.host) as classroom:
        print(
            f"classroom ready in {time.perf_counter() - started:.0f} s: {parsed.replicas} replicas "
            f"behind nginx at http://{parsed.host}:{parsed.port} (Ctrl+C or `make classroom-stop` stops all)",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _stop_on_terminate)
        try:
            classroom.supervise()
        except KeyboardInterrupt:
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
