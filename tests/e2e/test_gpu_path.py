"""The GPU path's check script (benchmarks/gpu_check.py), which a device run calls.

On CPU the script runs end to end with the tiny preset (the same code path: synthetic
throughput, then simulate -> features -> train -> embed); on a machine with CUDA the
paper preset runs on the GPU. CI has no GPU, so the second is skipped there, with why.
"""

import subprocess
import sys

import pytest
import torch

SCRIPT = "benchmarks/gpu_check.py"


@pytest.mark.extended  # 2 minutes of the default suite's 25 (make test-all runs it)
def test_gpu_check_runs_end_to_end_on_cpu(repo_root, tmp_path):
    res = subprocess.run([sys.executable, SCRIPT, "--config", "configs/ssl/tiny.yaml",
                          "--device", "cpu", "--steps", "2", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=repo_root, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "GPU path: OK" in res.stdout and "subjects/s" in res.stdout
    assert "stage 2 step 3 loss" in res.stdout  # the real command trained both stages
    assert (tmp_path / "embed" / "embeddings.parquet").exists()


def test_gpu_check_says_when_there_is_no_gpu(repo_root, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    sys.path.insert(0, str(repo_root / "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.pop(0)
    assert gpu_check.main(["--device", "cuda"]) == 3
    assert "no CUDA device here" in capsys.readouterr().out


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA GPU on this machine (CI has none): a device run calls "
                           "'python benchmarks/gpu_check.py' with configs/ssl/paper.yaml")
def test_paper_preset_on_the_gpu(repo_root, tmp_path):
    res = subprocess.run([sys.executable, SCRIPT, "--steps", "3", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=repo_root, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "GPU path: OK" in res.stdout
