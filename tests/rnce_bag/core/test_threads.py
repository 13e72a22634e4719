"""torch's OpenMP threads wait passively unless the user chose otherwise."""

import os
import subprocess
import sys

PROBE = ("import os, cli.main, torch; "
         "print(os.environ.get('OMP_WAIT_POLICY'), torch.get_num_threads() >= 1)")


def _run(env_extra: dict[str, str], repo_root) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update(env_extra)
    res = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, cwd=repo_root, check=True)
    return res.stdout.strip()


def test_the_cli_sets_passive_waiting_before_torch_loads(repo_root):
    assert _run({}, repo_root) == "PASSIVE True"


def test_a_users_choice_is_kept(repo_root):
    assert _run({"OMP_WAIT_POLICY": "ACTIVE"}, repo_root) == "ACTIVE True"


def test_too_late_once_torch_is_loaded(monkeypatch):
    import torch  # noqa: F401  (loaded: the runtime has read the environment)

    from rnce_bag.core.threads import prefer_passive_waiting

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert prefer_passive_waiting() is False and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert prefer_passive_waiting() is False and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
