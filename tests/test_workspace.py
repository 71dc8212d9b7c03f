"""Workspaces: ids that cannot name a path, one folder per learner in classroom mode, quotas that say no."""

import pytest

from cnnlib.store.workspace import (ID_LENGTH, SINGLE, Quota, QuotaFull, check_room, is_workspace_id, new_workspace_id,
                              usage, workspace)


def test_new_ids_are_valid_distinct_and_nothing_else_is():
    ids = {new_workspace_id() for _ in range(200)}
    assert len(ids) == 200 and all(is_workspace_id(value) and len(value) == ID_LENGTH for value in ids)
    for bad in ("", "../../etc/pa", "ABCDEFGHJKMN", "abc", "abcdefghjkmn/", None, 12, "abcdefghjkm0"):
        assert not is_workspace_id(bad)


def test_each_learner_has_a_private_folder_and_everyone_the_shared_one(tmp_path):
    learner = new_workspace_id()
    mine = workspace(learner, tmp_path)
    assert mine.models_dir == tmp_path / "learners" / learner and mine.private
    assert mine.shared_dir == tmp_path / "shared"
    single = workspace(None, tmp_path)
    assert single.id == SINGLE and single.models_dir == tmp_path and not single.private
    with pytest.raises(ValueError, match="not valid"):
        workspace("../../etc", tmp_path)


def test_usage_counts_every_file_and_the_models(tmp_path):
    assert usage(tmp_path / "missing") == usage(tmp_path)
    (tmp_path / "a.keras").write_bytes(b"x" * 100)
    (tmp_path / "a.json").write_bytes(b"x" * 10)
    (tmp_path / "a.epochs.npz").write_bytes(b"x" * 50)
    (tmp_path / ".a.tmp.keras").write_bytes(b"x" * 5)  # a save in progress: bytes count, not a model
    assert usage(tmp_path).bytes == 165 and usage(tmp_path).models == 1


def test_a_full_workspace_refuses_with_a_sentence(tmp_path):
    (tmp_path / "a.keras").write_bytes(b"x" * 1000)
    check_room(tmp_path, Quota(max_bytes=2000, max_models=2), incoming_bytes=500)
    with pytest.raises(QuotaFull, match="limit of 1 models"):
        check_room(tmp_path, Quota(max_bytes=10_000, max_models=1))
    with pytest.raises(QuotaFull, match="MB"):
        check_room(tmp_path, Quota(max_bytes=1200, max_models=5), incoming_bytes=500)


def test_the_quota_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MB", "1.5")
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MODELS", "3")
    assert Quota.from_environment() == Quota(int(1.5 * 2**20), 3)


def test_a_learner_has_a_quota_and_the_single_workspace_only_when_the_server_sets_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_QUOTA_MB", raising=False)
    monkeypatch.delenv("CNN_EXPLORER_QUOTA_MODELS", raising=False)
    single, learner = workspace(None, tmp_path), workspace(new_workspace_id(), tmp_path)
    assert single.quota is None and learner.quota == Quota.from_environment()
    single.check_room(incoming_bytes=10**12)  # no quota: anything fits
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MODELS", "0")
    for place in (single, learner):
        with pytest.raises(QuotaFull):
            place.check_room()
