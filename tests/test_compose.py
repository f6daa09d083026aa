"""Static checks of docker-compose.yml, Dockerfile, .dockerignore (no Docker here): Compose schema,
real CLI commands, pins from pyproject.toml, service wiring. Each checker returns a list of problems;
negative tests feed it mutated copies of the files and expect the problem to be reported.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fnmatch
import io
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.pool_harness import DEPLOY_ARGS, POOL, WORKER_ARGS

REPO = Path(__file__).resolve().parents[1]
SCHEMA_FILE = REPO.parent / "shared" / "compose-spec" / "compose-spec.json"
PREFECT_IMAGE = re.compile(r"^prefecthq/prefect:(?P<version>[^-]+)-python(?P<python>\d+\.\d+)$")
PYTHON_IMAGE = re.compile(r"^python:(?P<python>\d+\.\d+(?:\.\d+)?)(?:-[\w.-]+)?$")
VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_]\w*))")
PIN = re.compile(r"(?<![\w.-])(?P<name>[A-Za-z0-9][\w.-]*)==(?P<version>[^\s\"';]+)")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/:@\s]+:(?P<password>[^@\s]+)@")
SHELL_SEPARATORS = {"&&", "||", ";", "|", "&"}
TORCH_CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"
DB_URL = "PREFECT_SERVER_DATABASE_CONNECTION_URL"


@dataclass(frozen=True)
class Stack:
    """The files under test: the raw compose dict (before interpolation), Dockerfile, ignores, pyproject."""

    compose: dict[str, Any]
    dockerfile: str
    dockerignore: list[str]
    pyproject: dict[str, Any]
    repo: Path


def load_stack(repo: Path = REPO) -> Stack:
    """Read docker-compose.yml, Dockerfile, .dockerignore and pyproject.toml from ``repo``."""
    ignore = (repo / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return Stack(
        compose=yaml.safe_load((repo / "docker-compose.yml").read_text(encoding="utf-8")),
        dockerfile=(repo / "Dockerfile").read_text(encoding="utf-8"),
        dockerignore=[line.strip() for line in ignore if line.strip() and not line.startswith("#")],
        pyproject=tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8")),
        repo=repo,
    )


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Resolve Compose ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $VAR and $$."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return VAR.sub(lambda match: _resolve(match, env), value) if isinstance(value, str) else value


def _resolve(match: re.Match[str], env: Mapping[str, str]) -> str:
    """The replacement of one ``$...`` expression."""
    if match.group(0) == "$$":
        return "$"
    expr = match.group("braced") if match.group("braced") is not None else match.group("plain")
    parsed = re.fullmatch(r"([A-Za-z_]\w*)(?:(:?[-?])(.*))?", expr, re.DOTALL)
    if parsed is None:
        raise ValueError(f"invalid interpolation {match.group(0)!r}")
    name, op, arg = parsed.groups()
    value = env.get(name)
    unset = value is None or (value == "" and op in (":-", ":?"))
    if unset and op in (":?", "?"):
        raise ValueError(f"required variable {name} is missing: {arg}")
    return (arg or "") if unset else str(value)


def resolved(stack: Stack, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose document as Docker sees it with ``env`` (default: nothing set)."""
    doc: dict[str, Any] = interpolate(stack.compose, env or {})
    return doc


def services(stack: Stack, env: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The resolved services mapping (empty when absent)."""
    return dict(resolved(stack, env).get("services") or {})


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, from the list or the mapping form."""
    env = service.get("environment") or {}
    pairs = [(*item.split("=", 1), "")[:2] for item in env] if isinstance(env, list) else env.items()
    return {str(key): "" if value is None else str(value) for key, value in pairs}


def as_argv(value: Any) -> list[str]:
    """A command (list, or shell string split keeping ``;``, ``&&``, ``|`` as tokens) as argv."""
    if not isinstance(value, str):
        return [str(item) for item in value or []]
    lexer = shlex.shlex(value, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def pins(pyproject: Mapping[str, Any]) -> dict[str, str]:
    """Exact ``==`` pins of pyproject's dependencies, by canonical name."""
    out: dict[str, str] = {}
    for spec in pyproject["project"]["dependencies"]:
        req = Requirement(spec)
        out.update({canonicalize_name(req.name): s.version for s in req.specifier if s.operator == "=="})
    return out


def python_ok(version: str, pyproject: Mapping[str, Any]) -> bool:
    """True when Python ``version`` satisfies pyproject's requires-python."""
    return SpecifierSet(pyproject["project"]["requires-python"]).contains(version)


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per Dockerfile instruction, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    buffer = ""
    for line in [*dockerfile.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        buffer += stripped.removesuffix("\\") + " "
        if not stripped.endswith("\\"):
            keyword, _, args = buffer.strip().partition(" ")
            out.append((keyword.upper(), args.strip()))
            buffer = ""
    return out


def exec_form(args: str) -> list[str]:
    """CMD/ENTRYPOINT arguments as argv: the JSON exec form, else the shell form under /bin/sh -c."""
    if args.startswith("["):
        with contextlib.suppress(json.JSONDecodeError):
            return [str(item) for item in json.loads(args)]
    return ["/bin/sh", "-c", args] if args else []


def image_argv(dockerfile: str) -> tuple[list[str], list[str]]:
    """The image's (ENTRYPOINT, CMD) argv lists; the last instruction of each wins."""
    last = {keyword: args for keyword, args in instructions(dockerfile) if keyword in ("ENTRYPOINT", "CMD")}
    return exec_form(last.get("ENTRYPOINT", "")), exec_form(last.get("CMD", ""))


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's subcommands: the choices of its subparsers action."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def axiswatch_invocations(argv: list[str]) -> list[list[str]]:
    """The arguments of every ``axiswatch ...`` (or ``python -m flows.cli ...``) call in argv."""
    found: list[list[str]] = []
    for i, token in enumerate(argv):
        if any(char.isspace() for char in token):  # a script, e.g. of `sh -c "..."`
            found += axiswatch_invocations(as_argv(token))
        elif (Path(token).name == "axiswatch" and (i == 0 or argv[i - 1] in SHELL_SEPARATORS)) or (
            token == "flows.cli" and argv[i - 1 : i] == ["-m"]
        ):
            rest = argv[i + 1 :]
            ends = [j for j, arg in enumerate(rest) if arg in SHELL_SEPARATORS]
            found.append(rest[: ends[0]] if ends else rest)
    return found


def invocation_errors(args: list[str], parser: argparse.ArgumentParser, where: str) -> list[str]:
    """Problems with one ``axiswatch ARGS`` call: an unknown subcommand, or arguments that do not parse."""
    words, real = [arg for arg in args if not arg.startswith("-")], sorted(subcommands(parser))
    if not words or words[0] not in real:
        name = words[0] if words else "(none)"
        return [f"{where}: `axiswatch {shlex.join(args)}`: subcommand {name!r} is not one of {real}"]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(args)
    except SystemExit:
        reason = (stderr.getvalue().strip().splitlines() or ["exited"])[-1]
        return [f"{where}: `axiswatch {shlex.join(args)}` does not parse: {reason}"]
    return []


def check_commands(stack: Stack, parser: argparse.ArgumentParser) -> list[str]:
    """Every axiswatch call in compose commands/entrypoints and Dockerfile CMD/ENTRYPOINT is real."""
    calls = [
        (f"services.{name}.{key}", call)
        for name, service in services(stack).items()
        for key in ("entrypoint", "command")
        for call in axiswatch_invocations(as_argv(service.get(key)))
    ]
    for keyword, args in instructions(stack.dockerfile):
        if keyword in ("CMD", "ENTRYPOINT"):
            calls += [(f"Dockerfile {keyword}", call) for call in axiswatch_invocations(exec_form(args))]
    if not calls:
        return ["no command in docker-compose.yml or the Dockerfile runs axiswatch"]
    return [error for where, call in calls for error in invocation_errors(call, parser, where)]


def check_compose_pins(stack: Stack) -> list[str]:
    """Images carry explicit tags; the Prefect server image matches the pinned client and Python."""
    all_services = services(stack)
    errors = [
        f"services.{name}.image {service.get('image')!r} has no explicit version tag"
        for name, service in all_services.items()
        if "build" not in service and not re.search(r":(?!latest$)[\w.-]+$", str(service.get("image", "")))
    ]
    image = str(all_services.get("prefect-server", {}).get("image", ""))
    match, pinned = PREFECT_IMAGE.match(image), pins(stack.pyproject).get("prefect")
    if match is None:
        return [*errors, f"prefect-server image {image!r} is not prefecthq/prefect:X.Y.Z-pythonA.B"]
    if match["version"] != pinned:
        errors.append(f"prefect-server image is Prefect {match['version']}, pyproject pins {pinned}")
    if not python_ok(match["python"], stack.pyproject):
        errors.append(f"prefect-server image Python {match['python']} does not satisfy requires-python")
    return errors


def check_dockerfile_pins(stack: Stack) -> list[str]:
    """Base Python satisfies requires-python; pip pins match pyproject; CPU torch comes before the project."""
    steps, pinned = instructions(stack.dockerfile), pins(stack.pyproject)
    bases = [args.split()[-1] for keyword, args in steps if keyword == "FROM"]
    match = PYTHON_IMAGE.match(bases[-1]) if bases else None
    errors = [] if match else [f"base image {bases[-1:]} is not python:X.Y[-variant]"]
    if match and not python_ok(match["python"], stack.pyproject):
        errors.append(f"base image Python {match['python']} does not satisfy requires-python")
    runs = [args for keyword, args in steps if keyword == "RUN" and "pip install" in args]
    for pin in (pin for run in runs for pin in PIN.finditer(run)):
        expected = pinned.get(canonicalize_name(pin["name"]))
        if expected is not None and pin["version"] != expected:
            errors.append(f"Dockerfile installs {pin['name']}=={pin['version']}, pyproject pins {expected}")
    torch = [i for i, run in enumerate(runs) if f"torch=={pinned['torch']}" in run and TORCH_CPU_INDEX in run]
    project = [i for i, run in enumerate(runs) if re.search(r"pip install (?:-\S+ )*\.(?:\s|$)", run)]
    if not torch:
        errors.append(f"Dockerfile does not install torch=={pinned['torch']} {TORCH_CPU_INDEX}")
    if not project or (torch and torch[0] > project[0]):
        errors.append("Dockerfile must `pip install .` after installing CPU torch")
    return errors


def ignored(path: str, patterns: list[str]) -> bool:
    """True when .dockerignore ``patterns`` exclude ``path`` (or a parent) from the build context."""
    parts = Path(path).parts
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for raw in patterns:
        pattern = raw.removeprefix("!").strip("/").removeprefix("**/")
        names = [*prefixes, *(p.split("/")[-1] for p in prefixes)]
        if any(fnmatch.fnmatchcase(name, pattern) for name in names):
            result = not raw.startswith("!")
    return result


def check_dockerfile(stack: Stack) -> list[str]:
    """Offline model loading, a WORKDIR, a non-root user, COPY sources present and not ignored."""
    steps = instructions(stack.dockerfile)
    env = " ".join(args for keyword, args in steps if keyword == "ENV")
    offline = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    errors = [f"Dockerfile must set ENV {k}=1" for k in offline if not re.search(rf"(?<!\S){k}=1(?!\S)", env)]
    if not any(keyword == "WORKDIR" for keyword, _ in steps):
        errors.append("Dockerfile sets no WORKDIR")
    users = [args.split(":")[0] for keyword, args in steps if keyword == "USER"]
    if not users or users[-1] in ("root", "0"):
        errors.append("Dockerfile must switch to a non-root USER")
    copies = [(kw, shlex.split(args)) for kw, args in steps if kw in ("COPY", "ADD") and "--from" not in args]
    for keyword, tokens in copies:
        for source in [token for token in tokens if not token.startswith("--")][:-1]:
            if not (stack.repo / source).exists():
                errors.append(f"Dockerfile {keyword} {source}: not in the repository")
            elif ignored(source, stack.dockerignore):
                errors.append(f"Dockerfile {keyword} {source}: excluded by .dockerignore")
    return errors


def mounts(service: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(type, source, target) of each of a service's volumes, in short or long syntax."""
    out: list[tuple[str, str, str]] = []
    for item in service.get("volumes") or []:
        if isinstance(item, dict):
            out.append((item.get("type", "volume"), str(item.get("source", "")), str(item.get("target", ""))))
            continue
        parts = str(item).split(":")
        source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        out.append(("bind" if source.startswith((".", "/", "~")) else "volume", source, target))
    return out


def check_volumes(stack: Stack) -> list[str]:
    """Named volumes are declared and used; relative bind sources exist in the repository."""
    doc = resolved(stack)
    declared, used, errors = set(doc.get("volumes") or {}), set(), []
    for name, service in (doc.get("services") or {}).items():
        for kind, source, target in mounts(service):
            if kind == "volume" and source:
                used.add(source)
                if source not in declared:
                    errors.append(f"services.{name}: volume {source!r} ({target}) is not declared")
            elif kind == "bind" and source.startswith(".") and not (stack.repo / source).exists():
                errors.append(f"services.{name}: bind source {source!r} does not exist")
    return errors + [f"volume {v!r} is declared but no service uses it" for v in sorted(declared - used)]


def wiring_errors(all_services: Mapping[str, Any]) -> list[str]:
    """Restart policies; depends_on targets exist; service_healthy targets have a healthcheck."""
    errors = [
        f"services.{n}: no restart policy" for n, s in all_services.items() if s.get("restart", "no") == "no"
    ]
    for name, service in all_services.items():
        deps = service.get("depends_on") or {}
        for dep, options in ({d: {} for d in deps} if isinstance(deps, list) else deps).items():
            healthy = (options or {}).get("condition") == "service_healthy"
            if dep not in all_services:
                errors.append(f"services.{name}.depends_on: no service {dep!r}")
            elif healthy and not all_services[dep].get("healthcheck"):
                errors.append(f"services.{name} waits for {dep} to be healthy but {dep} has no healthcheck")
    for name, dep in (("prefect-server", "postgres"), ("axiswatch", "prefect-server")):
        deps = all_services[name].get("depends_on") or {}
        if not isinstance(deps, dict) or (deps.get(dep) or {}).get("condition") != "service_healthy":
            errors.append(f"services.{name} must depend on {dep} with condition service_healthy")
    for name, needle in (("postgres", "pg_isready"), ("prefect-server", "/api/health")):
        check = all_services[name].get("healthcheck") or {}
        test = " ".join(as_argv(check.get("test")))
        if check.get("disable") or test.startswith("NONE") or needle not in test:
            errors.append(f"services.{name} needs a healthcheck running {needle!r}")
    return errors


def check_services(stack: Stack) -> list[str]:
    """The three services exist and fit together: health, ports, database, API URL, volumes."""
    all_services = services(stack)
    missing = {"postgres", "prefect-server", "axiswatch"} - set(all_services)
    if missing:
        return [f"missing service(s): {sorted(missing)}"]
    server, worker = all_services["prefect-server"], all_services["axiswatch"]
    server_env, worker_env = environment(server), environment(worker)
    errors = wiring_errors(all_services)
    ports = [str(p.get("target") if isinstance(p, dict) else p) for p in server.get("ports") or []]
    if "4200" not in {port.split(":")[-1].split("/")[0] for port in ports}:
        errors.append("services.prefect-server must publish port 4200 (API and UI)")
    if server_env.get("PREFECT_SERVER_ANALYTICS_ENABLED", "").lower() != "false":
        errors.append("services.prefect-server must set PREFECT_SERVER_ANALYTICS_ENABLED=false")
    db_url = urlsplit(server_env.get(DB_URL, ""))
    if db_url.scheme != "postgresql+asyncpg" or db_url.hostname not in all_services:
        errors.append(f"{DB_URL} must be postgresql+asyncpg://USER:PASSWORD@<postgres service>/DB")
    api = urlsplit(worker_env.get("PREFECT_API_URL", ""))
    if (api.hostname, api.port, api.path.rstrip("/")) != ("prefect-server", 4200, "/api"):
        errors.append(f"axiswatch PREFECT_API_URL {api.geturl()!r} is not http://prefect-server:4200/api")
    if "build" not in worker:
        errors.append("services.axiswatch must be built from the repository's Dockerfile")
    named = {target for kind, _, target in mounts(worker) if kind == "volume"}
    for key in ("AXISWATCH_DATA_DIR", "AXISWATCH_REPORTS_DIR"):
        if worker_env.get(key) not in named:
            errors.append(f"services.axiswatch {key}={worker_env.get(key)!r} is not on a named volume")
    return errors


def _created_databases(stack: Stack, postgres: dict[str, Any]) -> set[str]:
    """Databases the postgres service creates on first start: POSTGRES_DB and the init scripts."""
    names = {environment(postgres).get("POSTGRES_DB", "")}
    for kind, source, target in mounts(postgres):
        if kind == "bind" and target.startswith("/docker-entrypoint-initdb.d/"):
            script = stack.repo / source
            text = script.read_text(encoding="utf-8") if script.is_file() else ""
            names |= set(re.findall(r"CREATE DATABASE (\w+)", text, re.IGNORECASE))
    return names


def check_pool(stack: Stack) -> list[str]:
    """deploy and worker run what tests/test_deploy.py runs (pool_harness.DEPLOY_ARGS and
    WORKER_ARGS), the worker on a DuckLake whose catalog database the postgres service creates."""
    all_services = services(stack)
    missing = {"deploy", "worker"} - set(all_services)
    if missing:
        return [f"missing service(s): {sorted(missing)}"]
    deploy, worker, pg = all_services["deploy"], all_services["worker"], all_services.get("postgres", {})
    errors = []
    worker_cmd, deploy_cmd = as_argv(worker.get("command")), as_argv(deploy.get("command"))
    pool = worker_cmd[4] if len(worker_cmd) > 4 else ""
    ran = ["prefect", *(pool if a == POOL else a for a in WORKER_ARGS)]
    if worker_cmd[: len(ran)] != ran or not pool:
        errors.append(
            f"services.worker.command {worker_cmd} does not start with {ran} (as the test's workers)"
        )
    ran = ["axiswatch", *(pool if a == POOL else a for a in DEPLOY_ARGS)]
    if deploy_cmd != ran:
        errors.append(f"services.deploy.command {deploy_cmd} is not {ran} (as the test's deploy)")
    env = environment(worker)
    for key in (
        "PREFECT_API_URL",
        "AXISWATCH_WAREHOUSE",
        "AXISWATCH_WAREHOUSE_DATA_PATH",
        "AXISWATCH_DATA_DIR",
    ):
        if not env.get(key):
            errors.append(f"services.worker sets no {key} (the test's workers do)")
    spec = env.get("AXISWATCH_WAREHOUSE", "")
    conninfo = dict(
        part.split("=", 1) for part in spec.removeprefix("ducklake:postgres:").split() if "=" in part
    )
    pg_env = environment(pg)
    if not spec.startswith("ducklake:postgres:") or conninfo.get("host") != "postgres":
        errors.append(
            f"services.worker AXISWATCH_WAREHOUSE {spec!r} is not ducklake:postgres:host=postgres …"
        )
    elif (conninfo.get("user"), conninfo.get("password")) != (
        pg_env.get("POSTGRES_USER"),
        pg_env.get("POSTGRES_PASSWORD"),
    ):
        errors.append("services.worker AXISWATCH_WAREHOUSE does not use the postgres service's credentials")
    if conninfo.get("dbname") not in _created_databases(stack, pg):
        errors.append(
            f"the catalog database {conninfo.get('dbname')!r} is not created by the postgres service"
        )
    named = {target for kind, _, target in mounts(worker) if kind == "volume"}
    for key in ("AXISWATCH_WAREHOUSE_DATA_PATH", "AXISWATCH_DATA_DIR", "AXISWATCH_REPORTS_DIR"):
        if env.get(key) not in named:
            errors.append(f"services.worker {key}={env.get(key)!r} is not on a named volume")
    if "container_name" in worker or worker.get("ports"):
        errors.append("services.worker cannot be scaled with a container_name or published ports")
    return errors


def check_secrets(stack: Stack) -> list[str]:
    """No literal secrets; Postgres credentials and Prefect's database URL agree whatever the env says."""
    errors = []
    for name, service in (stack.compose.get("services") or {}).items():
        for key, value in environment(service).items():
            in_url = URL_PASSWORD.search(value)
            secret = value if SECRET_KEY.search(key) else in_url["password"] if in_url else ""
            if secret and not secret.startswith("${"):
                errors.append(f"services.{name}.environment.{key} hard-codes a secret; use ${{VAR:-dev}}")
    for env in ({}, {"POSTGRES_PASSWORD": "not-the-default"}):
        all_services = services(stack, env)
        pg = environment(all_services.get("postgres", {}))
        url = urlsplit(environment(all_services.get("prefect-server", {})).get(DB_URL, ""))
        user, password, db = (pg.get(k) for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"))
        if (url.username, url.password, url.path) != (user or "postgres", password, f"/{db or user}"):
            errors.append(f"{DB_URL} does not match the postgres service's credentials with env {env}")
    return errors


def check_schema(stack: Stack, schema: Mapping[str, Any]) -> list[str]:
    """Violations of the Compose specification JSON schema (draft-07), after interpolation."""
    validator = jsonschema.Draft7Validator(schema)
    errors = validator.iter_errors(resolved(stack))
    return [f"/{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors]


@pytest.fixture(scope="module")
def stack() -> Stack:
    """The repository's own compose file, Dockerfile, .dockerignore and pyproject."""
    return load_stack()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The Compose specification schema from ../shared (skipped when shared/ is not beside the repo)."""
    if not SCHEMA_FILE.is_file():
        pytest.skip(f"Compose schema not found at {SCHEMA_FILE} (shared/ is expected beside the repo)")
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def test_compose_matches_the_compose_schema(stack: Stack, schema: dict[str, Any]) -> None:
    assert check_schema(stack, schema) == []


def test_commands_name_real_cli_subcommands(stack: Stack) -> None:
    from flows.cli.commands import build_parser

    assert check_commands(stack, build_parser()) == []


def test_worker_and_image_run_axiswatch_serve(stack: Stack) -> None:
    from flows.cli.commands import build_parser

    assert "serve" in subcommands(build_parser()), "flows.cli.commands has no `serve` subcommand"
    worker = as_argv(services(stack)["axiswatch"].get("command"))
    image = image_argv(stack.dockerfile)
    for argv in (worker, image[0] + image[1]):
        assert [call[:1] for call in axiswatch_invocations(argv)] == [["serve"]], argv


CONSISTENCY = [check_compose_pins, check_dockerfile_pins, check_dockerfile, check_volumes, check_services]


@pytest.mark.parametrize("check", [*CONSISTENCY, check_secrets])
def test_stack_is_consistent(stack: Stack, check: Callable[[Stack], list[str]]) -> None:
    assert check(stack) == []


def test_interpolation_follows_compose_rules() -> None:
    value = "${A:-x} ${B-y} ${C} $$D $E"
    assert interpolate(value, {}) == "x y  $D "
    assert interpolate([{"k": value}], {"A": "", "B": "", "C": "c", "E": "e"}) == [{"k": "x  c $D e"}]
    with pytest.raises(ValueError, match="REQUIRED"):
        interpolate({"k": ["${REQUIRED:?set it}"]}, {})


def test_only_a_program_named_axiswatch_is_an_invocation() -> None:
    assert axiswatch_invocations(["prefect", "worker", "start", "--pool", "axiswatch"]) == []
    assert axiswatch_invocations(["sh", "-c", "echo axiswatch && axiswatch run"]) == [["run"]]


def fake_parser() -> argparse.ArgumentParser:
    """A stand-in CLI (serve, run, model build), so negative tests do not depend on flows.cli.commands."""
    parser = argparse.ArgumentParser(prog="axiswatch")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve").add_argument("--quiet", action="store_true")
    sub.add_parser("run")
    deploy = sub.add_parser("deploy")
    deploy.add_argument("--work-pool", required=True)
    deploy.add_argument("--shards", type=int)
    sub.add_parser("model").add_subparsers(dest="action", required=True).add_parser("build")
    return parser


def C(path: str, value: Any = None) -> Callable[[Stack], Stack]:
    """A mutation setting (value None: deleting) a dotted path of the compose dict."""

    def mutate(stack: Stack) -> Stack:
        doc = copy.deepcopy(stack.compose)
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node.pop(last) if value is None else node.__setitem__(last, value)
        return replace(stack, compose=doc)

    return mutate


def D(old: str, new: str) -> Callable[[Stack], Stack]:
    """A mutation replacing text of the Dockerfile (which must contain it)."""

    def mutate(stack: Stack) -> Stack:
        assert old in stack.dockerfile, f"mutation target {old!r} is not in the Dockerfile"
        return replace(stack, dockerfile=stack.dockerfile.replace(old, new))

    return mutate


def ignoring(pattern: str) -> Callable[[Stack], Stack]:
    """A mutation adding a .dockerignore pattern."""
    return lambda stack: replace(stack, dockerignore=[*stack.dockerignore, pattern])


CHECKS: dict[str, Callable[[Stack], list[str]]] = {
    "cli": lambda stack: check_commands(stack, fake_parser()),
    "pins": check_compose_pins,
    "dpins": check_dockerfile_pins,
    "docker": check_dockerfile,
    "volumes": check_volumes,
    "services": check_services,
    "pool": check_pool,
    "secrets": check_secrets,
}
AX, PS, PG = "services.axiswatch.", "services.prefect-server.", "services.postgres."
WK = "services.worker."
NEGATIVE = {  # id: (mutation, checker, text expected in one reported problem)
    "typo": (C(AX + "command", ["axiswatch", "serv"]), "cli", "'serv'"),
    "bad-flag": (C(AX + "command", "axiswatch serve --bogus"), "cli", "--bogus"),
    "typo-in-sh-c": (C(AX + "command", ["sh", "-c", "axiswatch srve && true"]), "cli", "srve"),
    "typo-nested": (
        C(AX + "entrypoint", ["python", "-m", "flows.cli", "model", "bild"]),
        "cli",
        "bild",
    ),
    "typo-dockerfile": (D('CMD ["axiswatch", "serve"]', "CMD axiswatch sevre"), "cli", "sevre"),
    "no-axiswatch": (
        lambda s: C("services.deploy.command", "true")(
            C(AX + "command", "true")(D("CMD [", "CMD true #")(s))
        ),
        "cli",
        "no command",
    ),
    "worker-pool": (
        C(WK + "command", ["prefect", "worker", "start", "--pool", "x"]),
        "pool",
        "does not start",
    ),
    "deploy-shards": (
        C("services.deploy.command", ["axiswatch", "deploy", "--work-pool", "axiswatch"]),
        "pool",
        "deploy.command",
    ),
    "embedded": (C(WK + "environment.AXISWATCH_WAREHOUSE", "duckdb:/data/w.duckdb"), "pool", "host=postgres"),
    "no-catalog-db": (C(PG + "volumes", ["postgres-data:/var/lib/postgresql/data"]), "pool", "not created"),
    "lake-on-disk": (
        C(WK + "environment.AXISWATCH_WAREHOUSE_DATA_PATH", "/tmp/lake"),
        "pool",
        "named volume",
    ),
    "unscalable": (C(WK + "container_name", "worker"), "pool", "scaled"),
    "prefect-pin": (C(PS + "image", "prefecthq/prefect:3.9.0-python3.11"), "pins", "3.9.0"),
    "floating-tag": (C(PS + "image", "prefecthq/prefect:3-latest"), "pins", "X.Y.Z"),
    "old-python": (C(PS + "image", "prefecthq/prefect:3.9.1-python3.10"), "pins", "Python 3.10"),
    "untagged": (C(PG + "image", "postgres"), "pins", "no explicit"),
    "torch-pin": (D("torch==2.13.0", "torch==2.12.0"), "dpins", "torch==2.12.0"),
    "torch-index": (D(TORCH_CPU_INDEX, ""), "dpins", "does not install torch"),
    "base-python": (D("python:3.11-slim", "python:3.10-slim"), "dpins", "Python 3.10"),
    "root-user": (D("USER axiswatch", ""), "docker", "non-root"),
    "hub-online": (D("HF_HUB_OFFLINE=1", "HF_HUB_OFFLINE=0"), "docker", "HF_HUB_OFFLINE"),
    "copy-missing": (D("COPY flows ./flows", "COPY flowz ./flows"), "docker", "flowz"),
    "copy-ignored": (ignoring("models"), "docker", "excluded by .dockerignore"),
    "undeclared": (C("volumes.warehouse"), "volumes", "'warehouse'"),
    "no-health": (C(PS + "healthcheck"), "services", "/api/health"),
    "no-ui-port": (C(PS + "ports"), "services", "4200"),
    "not-healthy": (C(AX + "depends_on", ["prefect-server"]), "services", "service_healthy"),
    "api-host": (C(AX + "environment.PREFECT_API_URL", "http://prefect_:4200/api"), "services", "API_URL"),
    "data-dir": (C(AX + "environment.AXISWATCH_DATA_DIR", "/var/data"), "services", "AXISWATCH_DATA_DIR"),
    "no-restart": (C(PG + "restart"), "services", "restart"),
    "password": (C(PG + "environment.POSTGRES_PASSWORD", "hunter2"), "secrets", "hard-codes"),
}


@pytest.mark.parametrize("case", NEGATIVE)
def test_checks_catch_mutations(stack: Stack, case: str) -> None:
    mutate, check, fragment = NEGATIVE[case]
    problems = CHECKS[check](mutate(stack))
    assert any(fragment in problem for problem in problems), problems


@pytest.mark.parametrize(("key", "value"), [("restart", ["always"]), ("comand", ["axiswatch", "serve"])])
def test_schema_check_catches_violations(stack: Stack, schema: dict[str, Any], key: str, value: Any) -> None:
    problems = check_schema(C(AX + key, value)(stack), schema)
    assert any(key in problem for problem in problems), problems
