"""The database goes away mid-session and comes back: a clean error page and /healthz 503 while
it is gone, and the next request after it returns works. PostgreSQL through a TCP relay that the
test cuts and restores; the server is gunicorn in its own process."""

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.db import connection

from tests.helpers import ROOT, STRONG_KEY, clean_env

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="SQLite is a file: it cannot go away like a server"
)
DB_NAME = "litecreds_fault_test"


class Relay:
    """A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused)."""

    def __init__(self, target=("127.0.0.1", 5432)) -> None:
        self.target = target
        self.port = self._free_port()
        self.sockets: list[socket.socket] = []
        self.listener = None
        self.up()

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def up(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone does not
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.close()


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def server(tmp_path):
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin_sql(f"CREATE DATABASE {DB_NAME}")
    relay = Relay()
    port = Relay._free_port()
    env = clean_env(
        SECRET_KEY="s" * 50,
        LITECREDS_MASTER_KEY=STRONG_KEY,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{relay.port}/{DB_NAME}",
        LITECREDS_DB_CONN_MAX_AGE="60",
        LITECREDS_ADMIN_PASSWORD="fault-admin-password-1",
        LITECREDS_ENV_FILE=str(tmp_path / ".env"),
    )
    assert (
        subprocess.run(
            [sys.executable, "-m", "litecreds.bootstrap"], env=env, cwd=ROOT, capture_output=True
        ).returncode
        == 0
    )
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "litecreds.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base, relay
    process.terminate()
    process.wait(timeout=20)
    relay.down()
    connection.close()
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def log_in(client: httpx.Client, base: str) -> None:
    page = client.get(f"{base}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"{base}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": "admin", "password": "fault-admin-password-1"},
        headers={"referer": f"{base}/admin/login/"},
    )
    assert response.status_code == 302, response.text[:500]


def test_the_database_going_away_and_coming_back(server):
    base, relay = server
    with httpx.Client(timeout=15) as client:
        log_in(client, base)
        assert client.get(f"{base}/admin/credentials/credential/").status_code == 200
        assert client.get(f"{base}/healthz").status_code == 200

        relay.down()
        page = client.get(f"{base}/admin/credentials/credential/")
        assert page.status_code == 500
        assert "Something went wrong" in page.text and "Traceback" not in page.text
        health = client.get(f"{base}/healthz")
        assert (health.status_code, health.json()) == (503, {"status": "error", "database": "unreachable"})

        relay.up()
        assert client.get(f"{base}/healthz").status_code == 200
        back = client.get(f"{base}/admin/credentials/credential/")
        assert back.status_code == 200 and "Select credential to change" in back.text
