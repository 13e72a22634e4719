import pytest

from gwas.engines import hail as engine
from rnce_bag.core.errors import ExternalToolError


def test_missing_java_is_exit_3(monkeypatch):
    monkeypatch.setattr(engine, "find_executable", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ExternalToolError, match="Java runtime") as exc:
        engine.init_hail()
    assert exc.value.exit_code == 3


@pytest.mark.hail
@pytest.mark.slow
def test_probe_local_spark():
    res = engine.probe_local_spark()
    assert res["ok"], res
    assert res["hail"].startswith("0.2.139") and res["spark"] == "3.5.3"
