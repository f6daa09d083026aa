"""The model never contacts a hub: offline env is set, and no non-loopback socket is opened."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED_HOSTS = {"127.0.0.1", "localhost"}


def test_importing_encoders_sets_offline_env() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    code = (
        "import os, models.encoders; print(os.environ['HF_HUB_OFFLINE'], os.environ['TRANSFORMERS_OFFLINE'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.split() == ["1", "1"]


class NetworkAttempt(AssertionError):
    """Raised by the guard instead of opening a connection."""


def _host_of(address: Any) -> str | None:
    """Host part of a socket address (None for AF_UNIX paths)."""
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail any connect or name lookup that is not 127.0.0.1 (records the attempts)."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        host = _host_of(address)
        if host is not None and host not in ALLOWED_HOSTS:
            attempts.append(host)
            raise NetworkAttempt(f"network access attempted: {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check((host, 0))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


def test_guard_refuses_other_addresses(no_network: list[str]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkAttempt):
            sock.connect(("127.0.0.2", 9))  # refused by the guard before any packet is sent
        with pytest.raises(NetworkAttempt):
            socket.getaddrinfo("huggingface.co", 443)
    finally:
        sock.close()
    assert no_network == ["127.0.0.2", "huggingface.co"]


def test_loading_and_predicting_open_no_socket(no_network: list[str]) -> None:
    from models.classifier import StanceClassifier
    from models.encoders import MiniLMEncoder, MultilingualEncoder

    # fresh encoder instances (not the per-process cache) so the files really load under the guard
    minilm, use = MiniLMEncoder(threads=1), MultilingualEncoder(threads=1)
    assert minilm.encode(["Seoul and Washington"]).shape == (1, 384)
    assert use.encode(["서울과 워싱턴"]).shape == (1, 512)
    model = StanceClassifier.load()
    predictions = model.predict(["Seoul sides with Washington.", "韩国在中美之间保持平衡。"])
    assert len(predictions) == 2
    assert no_network == []
