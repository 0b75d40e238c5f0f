"""tests/cluster/conftest.py: test_cluster.py imports the integration suite's
helpers (Api, as_list, read_env_file) as `conftest`. Since tests/conftest.py
(the strict suite's hooks) is the root one, that name no longer reaches
tests/integration/conftest.py on its own; this conftest, the one pytest loads
for tests/cluster, hands them on from there (loaded under another name, so its
fixtures are not registered twice)."""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
_SPEC = importlib.util.spec_from_file_location("kisekae_integration_conftest", _PATH)
_HELPERS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_HELPERS)

Api = _HELPERS.Api
as_list = _HELPERS.as_list
read_env_file = _HELPERS.read_env_file
