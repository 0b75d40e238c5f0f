"""tests/fault/conftest.py: test_fault.py imports the integration suite's
helpers (Api, as_list, read_env_file, detail_fields) as `conftest`, handed on
by tests/cluster/conftest.py's loader (run here, not copied)."""

import runpy
from pathlib import Path

_CLUSTER = runpy.run_path(str(Path(__file__).resolve().parents[1] / "cluster" / "conftest.py"))
Api = _CLUSTER["Api"]
as_list = _CLUSTER["as_list"]
read_env_file = _CLUSTER["read_env_file"]
detail_fields = _CLUSTER["_HELPERS"].detail_fields
