"""What a dbt invocation pays before its first node, cut where a night runs many in one process.

``sco-green nightly`` runs the build DAG's dbt tasks one after the other in one process (a
scheduler's worker runs each task in a process of its own, where none of this applies). Each
invocation used to parse the project again from Cosmos's partial-parse file (reading it,
hashing every project file, building the graph: about 0.25 s) and, registering the adapter,
had dbt-common compute a default source for each behaviour flag with ``inspect.stack()``,
which reads the source line of every frame of the call stack (an Airflow task's is a hundred
deep). Six invocations of a new-rows night's models in one process, 120 frames deep, took
7.5 s as they were, 6.0 s with one parsed manifest, 5.8 s with the cheap flag source and 4.9 s
with both (medians of four, on the small bench's database). In the nightly itself a dbt task's
time beyond dbt's own node execution went from 0.30-0.45 s to 0.21-0.29 s, about a second of
a small new-rows night's seven dbt tasks (docs/benchmarks.md).

* ``share_manifest`` makes a Cosmos task run dbt with the manifest the process parsed for the
  same project files, parse flags and profile, which dbt's programmatic API supports
  (``dbtRunner(manifest=...)``); anything it does not recognise in the command runs as before.
* ``cheapen_behavior_flag_source`` gives dbt-common's default flag source (only named in the
  event that warns of a flag left off) by walking the frames without reading their source.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Flags that shape the parsed manifest (kept for the parse) and those that only select what a
# command runs (dropped); a command with any other flag after its subcommand is not shared.
_PARSE_OPTIONS = {"--vars", "--project-dir", "--profiles-dir", "--profile", "--target"}
_PARSE_SWITCHES = {"--no-static-parser", "--static-parser", "--no-partial-parse", "--partial-parse"}
_SELECTION_OPTIONS = {
    "--select",
    "-s",
    "--exclude",
    "--selector",
    "--resource-type",
    "--exclude-resource-type",
    "--indirect-selection",
}
_SELECTION_SWITCHES = {"--full-refresh", "--no-full-refresh", "--fail-fast", "--no-fail-fast"}
# Options before the subcommand that take a value (others there are switches).
_GLOBAL_OPTIONS = {"--log-level-file", "--log-level", "--log-format", "--log-path", "--target-path"}
_SHARED_COMMANDS = {"build", "run", "test", "seed", "compile"}
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")

# dbt-common's own default source, kept when cheapen_behavior_flag_source replaces it.
_dbt_common_default_source: Any = None

# The one manifest kept: (key, manifest, the project env vars dbt recorded while parsing it).
_shared: dict[str, Any] = {}


def parse_command(cli_args: Sequence[str]) -> tuple[list[str], str] | None:
    """The ``dbt parse`` that yields the manifest a command would parse, and its project dir;
    None when the command is not one to share a manifest with (another subcommand, a flag not
    known to leave the parse alone)."""
    words = list(cli_args)
    at = 0
    while at < len(words) and words[at].startswith("-"):
        at += 2 if words[at] in _GLOBAL_OPTIONS else 1
    if at >= len(words) or words[at] not in _SHARED_COMMANDS:
        return None
    parse, project = [*words[:at], "parse"], None
    i = at + 1
    while i < len(words):
        word = words[i]
        if word in _PARSE_OPTIONS and i + 1 < len(words):
            parse += [word, words[i + 1]]
            project = words[i + 1] if word == "--project-dir" else project
            i += 2
        elif word in _SELECTION_OPTIONS and i + 1 < len(words):
            i += 2
        elif word in _PARSE_SWITCHES:
            parse.append(word)
            i += 1
        elif word in _SELECTION_SWITCHES:
            i += 1
        else:
            return None
    return (parse, project) if project else None


def _profile(parse: list[str], project: str) -> tuple[str, tuple[tuple[str, str | None], ...]] | None:
    """The profile file's text and the values of the environment variables it reads: the
    database and schema a parsed node names come from the profile's target. None without one."""
    profiles = Path(parse[parse.index("--profiles-dir") + 1]) if "--profiles-dir" in parse else Path(project)
    try:
        text = (profiles / "profiles.yml").read_text(encoding="utf-8")
    except OSError:
        return None
    return text, tuple((name, os.environ.get(name)) for name in sorted(set(_ENV_VAR.findall(text))))


def _key(parse: list[str], project: str, files_digest: str) -> tuple[Any, ...] | None:
    profile = _profile(parse, project)
    if profile is None:
        return None
    at = parse.index("--project-dir")
    return (*parse[:at], *parse[at + 2 :], files_digest, profile)


def shared_manifest(cli_args: Sequence[str], files_digest: str) -> Any | None:
    """The manifest for a command run in the current directory and environment: the one kept
    when it was parsed from the same files with the same parse flags and profile (seeds pointed
    at this command's project dir, where dbt reads their CSV files), else parsed now; None when
    the command is not shared or the parse failed (the command then parses as it always did)."""
    from dbt.cli.main import dbtRunner

    command = parse_command(cli_args)
    if command is None:
        return None
    parse, project = command
    key = _key(parse, project, files_digest)
    if key is None:
        return None
    if _shared.get("key") == key and all(os.environ.get(name) == value for name, value in _shared["env"].items()):
        manifest = _shared["manifest"]
        for node in manifest.nodes.values():
            if node.resource_type == "seed":
                node.root_path = project
        return manifest
    _shared.clear()
    result = dbtRunner().invoke([*parse, "--quiet"])
    if not result.success or result.result is None:
        return None
    _shared.update(key=key, manifest=result.result, env=dict(result.result.env_vars))
    return result.result


def share_manifest(task: Any, files_digest: str) -> None:
    """Have a Cosmos dbt operator (invocation mode DBT_RUNNER) run its command with the
    process's shared manifest; ``files_digest`` names the project files it was parsed from."""
    import cosmos.dbt.runner as cosmos_runner
    from cosmos.dbt.project import change_working_directory, environ

    cheapen_behavior_flag_source()

    def run_dbt_runner(command: list[str], env: dict[str, str], cwd: str, **kwargs: Any) -> Any:
        from dbt.cli.main import dbtRunner

        with change_working_directory(cwd), environ(env):
            manifest = shared_manifest(command[1:], files_digest)
            if manifest is None:
                return cosmos_runner.run_command(command, env, cwd, callbacks=task._dbt_runner_callbacks, **kwargs)
            task.log.info("Running dbt with the manifest parsed for this project in this process:\n %s", command[1:])
            try:
                return dbtRunner(manifest=manifest, callbacks=task._dbt_runner_callbacks).invoke(command[1:])
            finally:
                cosmos_runner._cleanup_dbt_adapters()

    task.run_dbt_runner = run_dbt_runner


def cheapen_behavior_flag_source() -> None:
    """dbt-common evaluates a behaviour flag's default source, the first module up the call stack
    outside its own, even when the flag names one, with ``inspect.stack()``: that reads the
    source of every frame. This finds the same module from the frames' globals."""
    from dbt_common import behavior_flags

    global _dbt_common_default_source
    rendered = behavior_flags.BehaviorFlagRendered
    if getattr(rendered.__dict__.get("_default_source"), "__func__", None) is _default_source:
        return
    _dbt_common_default_source = rendered.__dict__["_default_source"]
    rendered._default_source = staticmethod(_default_source)


def _default_source() -> str:
    from dbt_common import behavior_flags

    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != behavior_flags.__name__ and name in sys.modules:
            return name
        frame = frame.f_back
    return "Unknown"
