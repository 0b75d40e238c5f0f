"""tests/cluster/conftest.py: the integration suite's client helpers, under the
name test_cluster.py imports them by.

pytest loads tests/conftest.py (the strict suite's hooks) as the module
`conftest`; without a conftest of its own here, test_cluster.py's
`from conftest import Api, ...` would find that one. This file is the
`conftest` of this folder and hands on what the cluster test takes from
tests/integration/conftest.py, loaded under another name (its fixtures are
not registered here: the cluster test has its own).
"""
import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "kisekae_integration_conftest", Path(__file__).resolve().parent.parent / "integration" /
    "conftest.py")
_INTEGRATION = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_INTEGRATION)

Api = _INTEGRATION.Api
as_list = _INTEGRATION.as_list
read_env_file = _INTEGRATION.read_env_file
