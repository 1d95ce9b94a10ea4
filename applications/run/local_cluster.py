"""Runs `apptk fit ...` as a `MultiWorkerMirroredStrategy` cluster on 127.0.0.1, and mirrored
training over two logical CPUs beside one device: a cluster on one machine, to try a
`--strategy multi-worker` run before taking it to several.

The distributed-training tests and `bench/distributed.py` use it. Each worker is its own Python
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


# Logical devices must be set before TensorFlow starts, hence a fresh process.
_MIRRORED_AND_ONE_DEVICE = r"""
import json, sys, time
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from apptk.applications.next_word import NextWordConfig, fit_next_word
from apptk.applications.run.training import read_history
corpus, out, config = sys.argv[1], sys.argv[2], NextWordConfig(**json.loads(sys.argv[3]))
results = {}
for name in ("one-device", "mirrored"):
    started = time.perf_counter()
    fit_next_word(corpus, f"{out}/{name}", config, force=True, strategy=name)
    results[name] = read_history(f"{out}/{name}") | {"seconds": time.perf_counter() - started}
print("HISTORIES " + json.dumps(results))
"""


def mirrored_and_one_device_histories(corpus: str, folder: str, config: dict) -> dict:
    """Fits the same next-word model (`NextWordConfig(**config)`) with one device and mirrored
    over two logical CPUs; returns each history (and its wall `seconds`) by strategy name."""
    result = subprocess.run(
        [sys.executable, "-c", _MIRRORED_AND_ONE_DEVICE, corpus, folder, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("HISTORIES ")]
    if not lines:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(lines[0][len("HISTORIES ") :])


def kill_worker_after_first_epoch(processes: list, out, timeout: float = 180) -> tuple:
    """Kills worker 1 once the chief has backed up an epoch; returns `(chief exit code,
    epochs backed up)` after the chief stops (it is killed if still waiting after 90 s)."""
    state = os.path.join(out, "backup", "training_metadata.json")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not os.path.exists(state):
        time.sleep(0.2)
    if not os.path.exists(state):
        wait_all(processes, 1)
        raise RuntimeError("The chief backed up no epoch in time.")
    processes[1].kill()
    chief_code = wait_all(processes, timeout=90)[0]
    with open(state, encoding="utf-8") as handle:
        return chief_code, json.load(handle)["epoch"]
