import pytest

from rnce_bag.core.errors import (
    ConfigError,
    ExternalToolError,
    InputError,
    RnceBagError,
    SchemaError,
    StageError,
)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InputError("x"), 2),
        (ConfigError("x"), 2),
        (SchemaError("x"), 2),
        (ExternalToolError("x"), 3),
        (StageError("x"), 1),
        (RnceBagError("x"), 1),
    ],
)
def test_exit_codes(exc, code):
    assert exc.exit_code == code


def test_hierarchy_and_hint():
    assert issubclass(ConfigError, InputError) and issubclass(SchemaError, InputError)
    assert issubclass(ExternalToolError, RnceBagError)
    err = InputError("bad file 'a.tsv'", hint="fix it")
    assert str(err) == "bad file 'a.tsv'\n  hint: fix it"
    assert err.message == "bad file 'a.tsv'"
