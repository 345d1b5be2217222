"""Where LedgerLink keeps its files: the project root and the local state folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


def home() -> Path:
    """The local state folder (embedded Postgres, Dagster home files, reports, sandbox certs).

    `LEDGERLINK_HOME` overrides it; the default is `.ledgerlink/` in the project root so a
    fresh clone needs no setup.
    """
    path = Path(os.environ.get("LEDGERLINK_HOME") or PROJECT_ROOT / ".ledgerlink")
    path.mkdir(parents=True, exist_ok=True)
    return path
