"""dbt-duckdb plugin: relative paths in the profile are relative to the dbt project folder.

DuckDB opens a relative `path` against the folder dbt was started from, so `dbt build` in
dbt_project/ and `dbt build --project-dir dbt_project` in the repository root would write two
different warehouse files. dbt does not put the project folder in the Jinja context of
profiles.yml, but it knows it (flag PROJECT_DIR), and dbt-duckdb calls this plugin before it
opens the file (profiles.yml: `plugins: [{module: rfm_segments.dbt_paths}]`). The same goes
for the input file: a relative var raw_path is looked up from the project folder too.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

#: config_options that name a file or folder.
PATH_OPTIONS = ("temp_directory",)
#: md:, s3://, ducklake: ... (two letters at least, so that C: stays a Windows drive)
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def project_dir() -> Path:
    """The dbt project folder of this invocation (--project-dir, or found from the shell's folder)."""
    from dbt.flags import get_flags

    chosen = getattr(get_flags(), "PROJECT_DIR", None)
    return Path(chosen or os.getcwd()).resolve()


def from_project(path: str, root: Path) -> str:
    """`path` made absolute against `root`; absolute paths, URLs and :memory: are left alone."""
    if not path or path == ":memory:" or URL_SCHEME.match(path) or Path(path).is_absolute():
        return path
    return str((root / path).resolve())


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        """Before dbt-duckdb opens the file: the warehouse and spill folder from the project, and
        input files (var raw_path) found from the project too. DuckDB still tries the folder
        dbt was started from first for an input file: file_search_path only adds folders."""
        root = project_dir()
        creds.path = from_project(creds.path, root)
        if Path(creds.path).is_absolute():  # a local file: DuckDB creates it, not its folder
            Path(creds.path).parent.mkdir(parents=True, exist_ok=True)
        for option in PATH_OPTIONS:
            if isinstance(config.get(option), str):
                config[option] = from_project(config[option], root)
        searched = [folder for folder in str(config.get("file_search_path") or "").split(",") if folder]
        config["file_search_path"] = ",".join([*searched, str(root)])
