import pytest
from pydantic import BaseModel

from fleet import function
from fleet.errors import DefinitionError, InvalidInput
from fleet.spec import spec_of


class In(BaseModel):
    x: int


class Out(BaseModel):
    y: int


def test_decorated_function_stays_callable_and_carries_its_spec():
    @function(cpus=0.5, gpus=0, memory_mb=256, timeout_s=10, retries=2, schedule="@every 5s")
    def double(req: In) -> Out:
        """Double x."""
        return Out(y=req.x * 2)

    assert double(In(x=2)) == Out(y=4)
    spec = spec_of(double)
    assert spec.name == "double" and spec.description == "Double x."
    opts = spec.ray_options()
    assert opts["num_cpus"] == 0.5 and opts["max_retries"] == 2
    assert opts["retry_exceptions"] is False and opts["memory"] == 256 * 1024 * 1024
    schema = spec.describe()["input_schema"]
    assert schema["properties"]["x"]["type"] == "integer"


def two_args(a: In, b: In) -> Out: ...


def unannotated(req) -> Out: ...


@pytest.mark.parametrize("fn, fragment", [
    (two_args, "takes 2 parameters"),
    (unannotated, "must be annotated with a pydantic"),
])
def test_wrong_signatures_fail_at_import_with_a_fix(fn, fragment):
    with pytest.raises(DefinitionError) as exc:
        function(fn)
    assert fragment in str(exc.value)


def test_return_annotation_must_be_a_model():
    with pytest.raises(DefinitionError, match="return annotation"):
        @function
        def f(req: In) -> dict:
            return {}


def test_bad_options_are_refused_with_the_field_named():
    with pytest.raises(DefinitionError, match="lower_snake_case"):
        function(name="Bad-Name")(unannotated)
    with pytest.raises(DefinitionError, match="timeout_s"):
        @function(timeout_s=0)
        def f(req: In) -> Out: ...
    with pytest.raises(DefinitionError, match="retries"):
        @function(retries=-1)
        def g(req: In) -> Out: ...
    with pytest.raises(DefinitionError, match="async"):
        @function
        async def h(req: In) -> Out: ...


def test_warm_options_are_checked_and_shown():
    with pytest.raises(DefinitionError, match="warm must be a whole number"):
        @function(warm=1.5)
        def a(req: In) -> Out: ...
    with pytest.raises(DefinitionError, match="max_inputs must be"):
        @function(warm=1, max_inputs=0)
        def b(req: In) -> Out: ...
    with pytest.raises(DefinitionError, match="set warm >= 1"):
        @function(max_inputs=8)
        def c(req: In) -> Out: ...

    @function(cpus=0.05, warm=2, max_inputs=8)
    def d(req: In) -> Out: ...
    shown = spec_of(d).describe()
    assert (shown["warm"], shown["max_inputs"]) == (2, 8)


def test_bad_schedule_names_the_accepted_forms():
    with pytest.raises(InvalidInput, match="@every"):
        @function(schedule="every tuesday")
        def f(req: In) -> Out: ...
