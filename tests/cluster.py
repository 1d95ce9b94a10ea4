"""Runs `apptk fit ...` as a 2-worker `MultiWorkerMirroredStrategy` cluster on 127.0.0.1.

Not a test module: the distributed-training tests import it. Each worker is its own Python
process with its own `TF_CONFIG`, exactly as on a real cluster.
"""

import json
import os
import socket
import subprocess
import sys
import time

APPTK = [sys.executable, "-m", "apptk.cli"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for handle in sockets:
        handle.bind(("127.0.0.1", 0))
    ports = [handle.getsockname()[1] for handle in sockets]
    for handle in sockets:
        handle.close()
    return ports


def worker_environment(ports: list[int], index: int) -> dict:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    environment = dict(os.environ)
    environment["TF_CONFIG"] = json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": index}}
    )
    environment["CUDA_VISIBLE_DEVICES"] = ""
    return environment


def start_workers(arguments: list[str], log_folder, workers: int = 2) -> list:
    """Starts `apptk <arguments> --strategy multi-worker` once per worker."""
    ports = free_ports(workers)
    processes = []
    for index in range(workers):
        with open(os.path.join(log_folder, f"worker-{index}.log"), "ab") as log:
            processes.append(
                subprocess.Popen(
                    [*APPTK, *arguments, "--strategy", "multi-worker"],
                    env=worker_environment(ports, index),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return processes


def wait_all(processes: list, timeout: float) -> list[int]:
    """Exit codes; any worker still running after `timeout` seconds is killed (code None)."""
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            codes.append(None)
    return codes


def run_cluster(arguments: list[str], log_folder, timeout: float = 240) -> list[int]:
    return wait_all(start_workers(arguments, log_folder), timeout)


def log_text(log_folder, index: int) -> str:
    with open(
        os.path.join(log_folder, f"worker-{index}.log"), encoding="utf-8", errors="replace"
    ) as handle:
        return handle.read()
