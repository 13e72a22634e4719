import json
import subprocess
import sys

import pytest

from rnce_bag.core.io import sha256_file
from rnce_bag.core.provenance import RunRecord, git_revision, package_versions


def test_run_json_lifecycle(tmp_path):
    inp = tmp_path / "in.tsv"
    inp.write_text("a\n1\n")
    out = tmp_path / "run"
    out.mkdir()
    with RunRecord(out, "test", config={"x": 1}, inputs=[inp], seeds={"seed": 7},
                   argv=["rnce-bag", "test"], tools=("java", "plink2")) as rec:
        running = json.loads((out / "run.json").read_text())
        assert running["status"] == "running" and running["finished"] is None
        result = out / "result.txt"
        result.write_text("ok")
        rec.add_output(result)
    data = json.loads((out / "run.json").read_text())
    assert data["status"] == "ok" and data["finished"] >= data["started"]
    assert data["argv"] == ["rnce-bag", "test"] and data["seeds"] == {"seed": 7}
    assert data["config"] == {"x": 1}
    assert data["inputs"][str(inp)] == sha256_file(inp)
    assert data["outputs"][str(result)] == sha256_file(result)
    assert data["python"] == sys.version.split()[0]
    assert data["packages"]["rnce-bag"] and "torch" in data["packages"]
    assert set(data["tools"]) == {"java", "plink2"}


def test_failure_is_recorded(tmp_path):
    with pytest.raises(ValueError):
        with RunRecord(tmp_path, "test", tools=()):
            raise ValueError("bad thing")
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["status"] == "failed" and "bad thing" in data["error"]


def test_versions_without_import():
    assert package_versions(["definitely-not-installed-pkg"]) == {
        "definitely-not-installed-pkg": None}
    # metadata lookups never import the package (a fresh interpreter: this one may have)
    code = ("import sys; from rnce_bag.core.provenance import package_versions; "
            "v = package_versions(['hail', 'torch']); "
            "assert v['hail'] and v['torch'], v; "
            "assert 'hail' not in sys.modules and 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_git_revision_outside_repo(tmp_path):
    assert git_revision(tmp_path) is None
