"""Puts the repository root on sys.path, so a benchmark can start the tests' throwaway servers
(`tests.servers`): `import repository` before `from tests.servers.postgres import ...`."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
