"""A real `accord serve` on loopback for the tests: the binary named by ACCORD_BIN (else the repository's debug
build), the reference policies, a fresh database in a temporary folder."""

from __future__ import annotations

import os
import pathlib
import secrets
import socket
import subprocess
import time
import urllib.request
from typing import Iterator

import pytest

from accord import AccordClient

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, folder: pathlib.Path) -> None:
        binary = os.environ.get("ACCORD_BIN") or str(REPOSITORY / ".build" / "debug" / "accord")
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = folder / "accord.sqlite"
        self.log = open(folder / "server.log", "wb")
        self.process = subprocess.Popen(
            [binary, "serve", "--policies", str(REPOSITORY / "policies"), "--db", str(folder / "accord.sqlite"),
             "--port", str(self.port), "--durability", "normal"],
            env=dict(os.environ, ACCORD_TOKEN=self.token), stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"accord serve did not start: {(folder / 'server.log').read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("accord"))
    yield running
    running.stop()


@pytest.fixture()
def client(server: Server) -> AccordClient:
    return AccordClient(server.url, token=server.token)
