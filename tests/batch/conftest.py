"""tests/batch/conftest.py: test_batch.py (and world.py, which it uses) import
the integration suite's helpers as `conftest`. tests/conftest.py, the strict
suite's hooks, is the root one, so that name does not reach
tests/integration/conftest.py on its own (see tests/cluster/conftest.py): this
conftest, the one pytest loads for tests/batch, hands on the helpers they use,
loaded under another name so that its fixtures are not registered twice."""

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "kisekae_integration_conftest_batch",
    Path(__file__).resolve().parents[1] / "integration" / "conftest.py")
_HELPERS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_HELPERS)

Api, as_list, generate_art, read_env_file = (
    _HELPERS.Api, _HELPERS.as_list, _HELPERS.generate_art, _HELPERS.read_env_file)
layer_inputs, unique, wait_for = _HELPERS.layer_inputs, _HELPERS.unique, _HELPERS.wait_for
