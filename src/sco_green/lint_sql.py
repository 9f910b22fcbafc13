"""sqlfluff over the dbt models with the dbt templater (part of the test command).

The dbt templater compiles each model; it needs the profile's variables, taken from
WAREHOUSE_URL (or the local server) as everywhere else, but writes nothing.
"""

from __future__ import annotations

import os
import sys

from sco_green.dbt_runner import dbt_env
from sco_green.paths import dbt_project_dir


def main() -> int:
    url = os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    for key, value in dbt_env(url).items():
        os.environ.setdefault(key, value)
    from sqlfluff.cli.commands import cli

    os.chdir(dbt_project_dir())
    try:
        cli.main(args=["lint", "models", "--disable-progress-bar", "--nofail" if "--nofail" in sys.argv else "-q"])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
