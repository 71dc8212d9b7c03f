"""What one server allows all its learners: caches bounded in bytes, workspaces made only when something is stored,
caps on workspaces, on their disk and on the training queue, and one check-and-write at a time per workspace."""

import io
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import APP_PATH, FAKE_TRAINER, ROOT
from streamlit.testing.v1 import AppTest

from cnnlib.server.cache import ByteCache, cached_in
from cnnlib.store import uploads
from cnnlib.store.workspace import QuotaFull, new_workspace_id, workspace
from cnnlib.training.config import TrainConfig
from cnnlib.training.runs import Launcher, QueueFull, RunRegistry

KB = 2**10


def test_a_cache_drops_its_least_recently_used_entries_once_their_bytes_pass_the_bound():
    cache = ByteCache(max_bytes=100)
    made = []

    def make(name: str):
        return lambda: made.append(name) or name

    for name in ("a", "b", "a", "c"):  # a is used again before c comes: b is the least recently used
        cache.get(name, make(name), size=lambda value: 40)
    assert made == ["a", "b", "c"] and cache.bytes == 80 and len(cache) == 2
    assert cache.get("a", make("a"), size=len) == "a" and cache.get("b", make("b"), size=len) == "b"
    assert made == ["a", "b", "c", "b"]  # b was made again
    huge = cache.get("huge", lambda: "x" * 500, size=len)  # over the whole bound: handed out, not kept
    assert huge == "x" * 500 and "huge" not in repr(cache) and cache.bytes <= 100
    assert cache.get("huge", lambda: "again", size=len) == "again"


def test_one_key_is_made_once_while_callers_wait_and_failures_are_not_kept():
    cache, calls = ByteCache(max_bytes=10 * KB), []

    @cached_in(cache, size=lambda value: 1)
    def slow_load(path: str) -> str:
        calls.append(path)
        time.sleep(0.2)
        return path.upper()

    threads = [threading.Thread(target=slow_load, args=("model.keras",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["model.keras"] and slow_load("model.keras") == "MODEL.KERAS"
    with pytest.raises(ValueError):
        cache.get("broken", lambda: int("x"), size=lambda value: 1)
    assert cache.get("broken", lambda: 7, size=lambda value: 1) == 7


def test_the_servers_caches_are_bounded_in_bytes(monkeypatch):
    import pages
    from pages.parts import models

    assert isinstance(pages.MNIST_CACHE, ByteCache) and pages.MNIST_CACHE.max_bytes == 512 * 2**20
    assert isinstance(models.MODEL_CACHE, ByteCache) and models.MODEL_CACHE.max_bytes == 512 * 2**20
    data = pages._cached_mnist("offline", None)
    assert pages.MNIST_CACHE.bytes >= data.x_train.nbytes + data.x_test.nbytes


def test_a_visit_in_classroom_mode_creates_no_folder(tmp_path, monkeypatch):
    models = tmp_path / "models"
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(models))
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    monkeypatch.setenv("CNN_EXPLORER_TRAINER_READY", "0")
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    for page in ("pages/train.py", "pages/draw_digit.py", "pages/why_answer.py"):
        at.switch_page(page).run()
        assert not at.exception
    assert at.query_params["learner"] and not models.exists()


def store(learner, size: int, name: str = "file.bin") -> None:
    """Write ``size`` bytes into a learner's workspace the way every save does."""
    with learner.storing(size) as folder:
        (folder / name).write_bytes(b"x" * size)


def test_the_server_keeps_at_most_its_number_of_workspaces(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MAX_WORKSPACES", "2")
    first, second, third = (workspace(new_workspace_id(), tmp_path) for _ in range(3))
    third.check_room()  # two free places: a visit's check says nothing
    store(first, 10)
    store(second, 10)
    for refused in (lambda: store(third, 10), third.check_room):
        with pytest.raises(QuotaFull, match="at most 2, and they are all taken") as full:
            refused()
        assert full.value.key == "workspace.server_full"
    assert not third.models_dir.exists()
    store(first, 10, "more.bin")  # those who have one keep storing


def test_all_workspaces_together_stay_within_the_servers_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_DISK_MB", str(10 * KB / 2**20))
    first, second = workspace(new_workspace_id(), tmp_path), workspace(new_workspace_id(), tmp_path)
    store(first, 8 * KB)
    with pytest.raises(QuotaFull, match="use 0 MB of 0 MB") as full:
        store(second, 4 * KB)
    assert full.value.key == "workspace.disk_full" and not second.models_dir.exists()
    assert second.room_left() == 2 * KB
    store(second, 2 * KB)


def test_the_training_queue_has_a_length_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER", json.dumps({"batches": 2000}))
    monkeypatch.setenv("CNN_EXPLORER_MAX_QUEUE", "3")
    assert RunRegistry(max_running=1).max_queued == 3
    registry = RunRegistry(max_running=1, launcher=Launcher(FAKE_TRAINER), max_queued=1)
    try:
        training, waiting = registry.submit(TrainConfig(), "a"), registry.submit(TrainConfig(), "b")
        with pytest.raises(QueueFull, match=r"queue is full \(1 trainings are waiting\)"):
            registry.submit(TrainConfig(), "c")
        assert [run.owner for run in registry.runs()] == ["a", "b"]
        waiting.stop()  # cancelled: its place is free again
        assert registry.submit(TrainConfig(), "c").owner == "c"
    finally:
        registry.shutdown()
    assert training.wait(30)


def npz_upload(name: str) -> object:
    """An uploaded MNIST-shaped npz of 60 zero images, about 47 KB."""
    buffer = io.BytesIO()
    np.savez(buffer, x_train=np.zeros((50, 28, 28), np.uint8), y_train=np.arange(50) % 10,
             x_test=np.zeros((10, 28, 28), np.uint8), y_test=np.arange(10) % 10)
    data = buffer.getvalue()
    return type("Upload", (), {"name": name, "getvalue": lambda self: data})()


def test_two_uploads_at_once_into_a_nearly_full_workspace_only_one_fits(tmp_path, monkeypatch):
    learner = workspace(new_workspace_id(), tmp_path)
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MB", str(1.5 * len(npz_upload("a.npz").getvalue()) / 2**20))
    saving = uploads.save_upload
    monkeypatch.setattr(uploads, "save_upload", lambda *args: time.sleep(0.3) or saving(*args))  # a slow disk
    start, kept, refused = threading.Barrier(2), [], []

    def upload(name: str) -> None:
        start.wait()
        try:
            kept.append(uploads.keep_npz(npz_upload(name), learner))
        except QuotaFull as full:
            refused.append(full)

    threads = [threading.Thread(target=upload, args=(name,)) for name in ("a.npz", "b.npz")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) == 1 and len(refused) == 1 and refused[0].key == "workspace.too_many_bytes"
    assert sorted(path.name for path in learner.models_dir.iterdir()) == [kept[0].rsplit("/", 1)[-1]]


def test_a_trainer_process_waits_for_the_workspaces_lock(tmp_path):
    learner = workspace(new_workspace_id(), tmp_path)
    store(learner, 10)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from cnnlib.store.workspace import "
         "workspace_at; w = workspace_at(Path(sys.argv[1]), sys.argv[2])\nwith w.storing(10):\n"
         "    print('in', flush=True); time.sleep(1.5)", str(learner.models_dir), learner.id],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "in"
    asked = time.monotonic()
    store(learner, 10, "after.bin")
    assert time.monotonic() - asked > 0.7 and holder.wait(10) == 0


class WorkersBusy(Launcher):
    """A launcher that hands every run over at once, as Ray does, with ``waiting`` runs waiting for a worker."""

    trainings_at_once = sys.maxsize

    def __init__(self, waiting: int) -> None:
        super().__init__(FAKE_TRAINER)
        self.waiting = waiting

    def waiting_count(self) -> int:
        return self.waiting


def test_runs_waiting_for_a_ray_worker_count_in_the_queue(monkeypatch):
    monkeypatch.setenv("FAKE_TRAINER", json.dumps({"batches": 2000}))
    launcher = WorkersBusy(waiting=2)
    registry = RunRegistry(launcher=launcher, max_queued=2)
    try:
        with pytest.raises(QueueFull, match=r"2 trainings are waiting"):
            registry.submit(TrainConfig(), "a")  # every slot is free here, but Ray has two runs waiting
        launcher.waiting = 1
        assert registry.submit(TrainConfig(), "a").owner == "a"
    finally:
        registry.shutdown()
