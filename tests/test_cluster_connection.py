"""`--strategy multi-worker` with a peer that never starts: it says who it waits for, gives up
after `--cluster-timeout` with one line, and stops at once on SIGTERM (issue 17, item 5)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from next_word_fixtures import write_corpus

from apptk.applications.run.cluster_connection import (
    ClusterConnectionError,
    own_and_peer_addresses,
    wait_for_peers,
)
from apptk.applications.run.local_cluster import free_ports

APPTK = Path(sys.executable).parent / "apptk"


def tf_config(ports: list[int], index: int = 0) -> dict:
    return {
        "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
        "task": {"type": "worker", "index": index},
    }


def test_own_and_peer_addresses_come_from_tf_config():
    config = {
        "cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]},
        "task": {"type": "worker", "index": 0},
    }
    assert own_and_peer_addresses(config) == ("b:2", ["a:1", "c:3"])


def test_waiting_for_a_peer_nobody_started_names_it_and_gives_up(capsys):
    ports = free_ports(2)
    started = time.monotonic()
    with pytest.raises(ClusterConnectionError, match=f"127.0.0.1:{ports[1]}"):
        wait_for_peers(tf_config(ports), timeout=1.5)
    assert 1.5 <= time.monotonic() - started < 10
    assert f"Waiting for the cluster: 127.0.0.1:{ports[1]} not reachable yet" in (
        capsys.readouterr().err
    )


def test_waiting_ends_as_soon_as_the_peers_listen():
    ports = free_ports(2)
    with socket.socket() as peer:
        peer.bind(("127.0.0.1", ports[1]))
        peer.listen()
        started = time.monotonic()
        wait_for_peers(tf_config(ports), timeout=30)
    assert time.monotonic() - started < 5


def test_while_waiting_this_worker_can_be_seen_by_the_others():
    ports = free_ports(2)
    with pytest.raises(ClusterConnectionError):
        wait_for_peers(tf_config(ports), timeout=0.1)
    # After giving up the port is free again for TensorFlow's own server.
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports[0]))


def start_waiting_worker(tmp_path, *options: str) -> subprocess.Popen:
    corpus = write_corpus(tmp_path / "corpus.txt")
    environment = dict(os.environ, TF_CONFIG=json.dumps(tf_config(free_ports(2))))
    return subprocess.Popen(
        [
            str(APPTK),
            "fit",
            "next-word",
            corpus,
            "--out",
            str(tmp_path / "lm"),
            "--strategy",
            "multi-worker",
            *options,
        ],
        env=environment,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def test_the_command_gives_up_after_cluster_timeout_in_one_line(tmp_path):
    worker = start_waiting_worker(tmp_path, "--cluster-timeout", "3")
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 1
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "did not connect within 3 s" in errors[0]
    assert "Traceback" not in stderr
    assert not (tmp_path / "lm").exists()


def test_sigterm_while_waiting_stops_the_command_at_once(tmp_path):
    worker = start_waiting_worker(tmp_path)
    line = worker.stderr.readline()
    while line and not line.startswith("Waiting for the cluster"):
        line = worker.stderr.readline()
    assert line.startswith("Waiting for the cluster"), "it says whom it waits for"
    stopped = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=20)
    assert time.monotonic() - stopped < 20
    assert worker.returncode == 130
    assert "Interrupted." in worker.stderr.read()
