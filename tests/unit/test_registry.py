import sys
import textwrap

import pytest

from fleet.errors import DefinitionError, NotFound
from fleet.registry import discover


def test_discovers_builtin_functions_package():
    reg = discover(("functions",))
    assert {"validate_data", "hello", "noop", "sleep"} <= set(reg.names())


def test_extra_module_path_adds_user_functions(tmp_path):
    (tmp_path / "my_funcs_a.py").write_text(textwrap.dedent("""
        from pydantic import BaseModel
        from fleet import function
        class In(BaseModel):
            x: int = 1
        @function
        def user_fn(req: In) -> None:
            return None
    """))
    reg = discover(("functions", "my_funcs_a"), (str(tmp_path),))
    assert "user_fn" in reg.names() and "hello" in reg.names()


def test_duplicate_names_are_refused(tmp_path):
    (tmp_path / "my_funcs_dup.py").write_text(textwrap.dedent("""
        from pydantic import BaseModel
        from fleet import function
        class In(BaseModel):
            pass
        @function(name="hello")
        def other(req: In) -> None:
            return None
    """))
    with pytest.raises(DefinitionError, match="Two functions are named 'hello'"):
        discover(("functions", "my_funcs_dup"), (str(tmp_path),))


def test_unknown_function_says_how_to_list():
    with pytest.raises(NotFound, match="fleet functions"):
        discover(("functions",)).get("nope")


def test_broken_module_is_reported_by_name():
    with pytest.raises(DefinitionError, match="no_such_module_xyz"):
        discover(("no_such_module_xyz",))
    assert "no_such_module_xyz" not in sys.modules
