"""What a new user types first, and the slips they make: each answer is one located sentence,
never a traceback, never a hang, and nothing wrong is taken as meant."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ucgov.cli import cli
from ucgov.errors import SpecError
from ucgov.planner import diff
from ucgov.spec import load_specs
from ucgov.state import Approval, Kind, LiveState, ModelVersion, Ref, RunInfo, Securable

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "first-tries-token"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, prog_name="ucgov")


def assert_one_sentence(result: Result) -> str:
    """Exit 1 with one `Error:` line (beside click's usage lines or the spec summary), never a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# -- specs ------------------------------------------------------------------------------------

MODEL = """\
settings: {{prune: true}}
catalogs:
  ml:
    schemas:
      prod:
        models:
          churn:
            approved: {{version: 4, keep_versions: {keep}}}
"""


def test_keep_versions_written_as_a_whole_float_plans_like_the_integer(load_spec):
    churn = Securable(
        Kind.MODEL,
        "ml.prod.churn",
        versions=tuple(ModelVersion(v, "r", "READY") for v in (1, 2, 3, 4)),
        approved=Approval(version=4),
    )
    live = LiveState(
        objects={
            Ref(Kind.CATALOG, "ml"): Securable(Kind.CATALOG, "ml"),
            Ref(Kind.SCHEMA, "ml.prod"): Securable(Kind.SCHEMA, "ml.prod"),
            churn.ref: churn,
        }
    )

    as_float = diff(load_spec(MODEL.format(keep="2.0")), live)
    as_int = diff(load_spec(MODEL.format(keep="2")), live)

    assert load_spec(MODEL.format(keep="2.0")).named("ml.prod.churn").approved.keep_versions == 2
    assert [c.describe() for c in as_float.changes] == [c.describe() for c in as_int.changes]
    assert [c.describe() for c in as_float.changes] == [
        "delete version 1 of model ml.prod.churn",
        "delete version 2 of model ml.prod.churn",
    ]


def test_keep_versions_that_is_not_whole_is_a_located_error(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(MODEL.format(keep="2.5"))
    assert [str(p) for p in raised.value.problems] == [
        "specs/team.yaml:8:51: catalogs/ml/schemas/prod/models/churn/approved/keep_versions must be a whole number, not 2.5"
    ]


MISPLACED = """\
catalogs:
  ml:
    schemas:
      prod:
        grants:
          alice@example.com: [USE SCHEMA]
          models:
            churn: {comment: Churn}
"""


def test_models_indented_under_grants_is_called_a_misplaced_key_not_a_principal(load_spec):
    with pytest.raises(SpecError) as raised:
        load_spec(MISPLACED)
    assert [str(p) for p in raised.value.problems] == [
        "specs/team.yaml:7:11: 'models' is inside grants: of ml.prod, where it would be a principal; "
        "it looks like a misplaced key: indent it as deep as grants:"
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("catalogs:\n  ml:\n\tcomment: x\n", "3:1", id="a tab as the whole indentation"),
        pytest.param("catalogs:\n  ml:\n    \tcomment: x\n", "3:5", id="a tab after spaces"),
        pytest.param("catalogs:\n\tml: {}\n", "2:1", id="a tab before a key"),
    ],
)
def test_a_tab_in_indentation_is_called_a_tab(load_spec, text, where):
    with pytest.raises(SpecError) as raised:
        load_spec(text)
    [problem] = [str(p) for p in raised.value.problems]
    assert problem.startswith(f"specs/team.yaml:{where}: ")
    assert "a tab indents this line: YAML indents with spaces only" in problem


def test_a_missing_spec_path_says_so_without_inventing_a_line(tmp_path):
    with pytest.raises(SpecError) as raised:
        load_specs([tmp_path / "spec"])
    assert [str(p) for p in raised.value.problems] == [f"{tmp_path / 'spec'}: does not exist"]


def test_plan_on_a_mistyped_folder_names_the_path_alone(tmp_path):
    result = run("plan", str(tmp_path / "spec"), "--url", UNREACHABLE)

    line = assert_one_sentence(result)
    assert line == f"Error: {tmp_path / 'spec'}: does not exist"
    assert not re.search(r":\d+:\d+:", line)


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("item", ["A-B=1", "1A=x", "A.B=1", "A B=1", "ä=1"])
def test_a_var_name_that_no_spec_could_reference_is_refused(write_specs, item):
    specs = write_specs({"a.yaml": "catalogs:\n  ml: {}\n"})

    result = run("validate", str(specs), "--var", item)

    line = assert_one_sentence(result)
    assert f"Invalid value for '--var': {item.partition('=')[0]!r} is not a variable name" in line
    assert "letters, digits and _" in line


def test_export_into_something_that_is_not_a_folder_is_refused_before_reading_the_server(tmp_path):
    result = run("export", "--out", "/dev/null", "--url", UNREACHABLE, env={"UCGOV_TOKEN": TOKEN})

    line = assert_one_sentence(result)
    assert line == "Error: --out /dev/null is not a folder: name a folder for the spec files"


def test_export_into_a_folder_it_cannot_make_is_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")

    result = run("export", "--out", str(blocker / "specs"), "--url", UNREACHABLE, env={"UCGOV_TOKEN": TOKEN})

    line = assert_one_sentence(result)
    assert line.startswith(f"Error: cannot make the folder {blocker / 'specs'} for the spec files: ")


# -- sandbox ports ----------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["70000", "-1", "0", "65535", "65536", "99999999999999999999"])
def test_sandbox_start_refuses_a_port_it_cannot_use_in_one_sentence(port, tmp_path):
    result = run("sandbox", "start", "--port", port, env={"UCGOV_SANDBOX_DIR": str(tmp_path)})

    line = assert_one_sentence(result)
    assert "--port" in line and "1<=x<=65534" in line
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing left


def test_the_library_refuses_such_a_port_too(tmp_path):
    from ucgov import sandbox
    from ucgov.errors import SandboxError

    for port in (0, -1, 65535, 70000):
        with pytest.raises(SandboxError, match=r"port \S+ cannot be used: the server needs PORT and PORT\+1"):
            sandbox.start(port, base=tmp_path)


def test_a_failed_sandbox_start_prints_false_for_eval_so_the_chain_stops(tmp_path):
    result = run("sandbox", "start", "--port", "0", env={"UCGOV_SANDBOX_DIR": str(tmp_path)})

    assert result.exit_code == 1
    assert result.stdout == "false\n"


def test_sandbox_env_without_a_sandbox_prints_false_for_eval(tmp_path):
    result = run("sandbox", "env", "--port", "8123", env={"UCGOV_SANDBOX_DIR": str(tmp_path)})

    assert result.exit_code == 1
    assert result.stdout == "false\n"
    assert "no sandbox runs on port 8123" in result.stderr


def test_sandbox_help_prints_no_false(tmp_path):
    result = run("sandbox", "start", "--help")

    assert result.exit_code == 0
    assert "false" not in result.stdout.splitlines()


def test_eval_of_a_failed_start_fails_in_a_real_shell(tmp_path):
    import subprocess

    script = f'eval "$({sys.executable} -m ucgov sandbox start --port 0 2>/dev/null)" && echo went-on; echo "status $?"'
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "UCGOV_SANDBOX_DIR": str(tmp_path)}
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=60)

    assert done.stdout == "status 1\n"


# -- the MLflow tracking store ----------------------------------------------------------------

RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def fresh_checkout(tmp_path, monkeypatch) -> Path:
    """A working directory where MLflow was never used, and no MLFLOW_TRACKING_URI."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def test_looking_up_a_run_in_mlflows_default_store_leaves_no_stray_mlflow_db(fresh_checkout):
    from ucgov import mlflow_bridge

    assert mlflow_bridge.read_runs([Approval(run=RUN)]) == {}
    assert list(fresh_checkout.iterdir()) == []


def test_the_store_searched_is_named_with_why_it_was_that_one(fresh_checkout, monkeypatch):
    from ucgov import mlflow_bridge

    default = mlflow_bridge.tracking_store()
    assert default == (
        f"MLflow's default tracking store sqlite:///{fresh_checkout}/mlflow.db, which does not exist "
        "(MLFLOW_TRACKING_URI is not set: set it to the store the run was logged in)"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://me:secret@127.0.0.1:9/")
    assert mlflow_bridge.tracking_store() == "the MLflow tracking store http://127.0.0.1:9/ (MLFLOW_TRACKING_URI)"


def test_an_unknown_run_names_the_store_that_was_searched(load_spec):
    desired = load_spec(MODEL.replace("{{version: 4, keep_versions: {keep}}}", "{{run: " + RUN + "}}").format())
    store = "the MLflow tracking store sqlite:////srv/mlflow.db (MLFLOW_TRACKING_URI)"

    with pytest.raises(SpecError) as raised:
        diff(desired, LiveState(tracking_store=store))

    assert [str(p) for p in raised.value.problems] == [
        f"specs/team.yaml:8:29: unknown run {RUN}: no such run in {store}"
    ]


# -- versions MLflow 3 registered itself ------------------------------------------------------


def _iris_live(*versions: ModelVersion) -> LiveState:
    run = RunInfo(
        run_id=RUN,
        artifact_uri=f"file:///srv/mlruns/1/{RUN}/artifacts",
        model_paths=frozenset({"model"}),
        logged_models={"model": frozenset({"models:/m-abc", "file:///srv/mlruns/1/models/m-abc/artifacts"})},
    )
    iris = Securable(Kind.MODEL, "ml.prod.churn", versions=versions)
    objects = {
        Ref(Kind.CATALOG, "ml"): Securable(Kind.CATALOG, "ml"),
        Ref(Kind.SCHEMA, "ml.prod"): Securable(Kind.SCHEMA, "ml.prod"),
        iris.ref: iris,
    }
    return LiveState(objects=objects, runs={RUN: run})


@pytest.mark.parametrize(
    "source",
    [
        "models:/m-abc",  # MLflow 3: the run's logged model
        "file:///srv/mlruns/1/models/m-abc/artifacts",  # that model's folder
        f"file:///srv/mlruns/1/{RUN}/artifacts/model",  # MLflow 2: the run's artifact folder
        f"runs:/{RUN}/model",
    ],
)
def test_a_version_mlflow_registered_with_no_run_id_is_found_by_its_source(load_spec, source):
    desired = load_spec(MODEL.replace("{{version: 4, keep_versions: {keep}}}", "{{run: " + RUN + "}}").format())

    plan = diff(desired, _iris_live(ModelVersion(1, None, "READY", source)))

    assert [c.describe() for c in plan.changes] == ["approve version 1 of model ml.prod.churn"]


def test_a_version_of_another_logged_model_is_not_taken_for_the_runs(load_spec):
    desired = load_spec(MODEL.replace("{{version: 4, keep_versions: {keep}}}", "{{run: " + RUN + "}}").format())

    plan = diff(desired, _iris_live(ModelVersion(1, None, "READY", "models:/m-other")))

    assert [c.action.value for c in plan.changes] == ["register", "approve"]


@pytest.mark.parametrize(
    ("uri", "missing"),
    [
        ("sqlite:///{here}/mlflow.db", True),
        ("sqlite:///rel-missing.db", True),
        ("file:///{here}/mlruns", True),
        ("{here}/mlruns", True),
        ("sqlite:///{here}", False),  # exists (a folder here, but it stands for any file that exists)
        ("sqlite://", False),  # in memory
        ("databricks", False),
        ("http://127.0.0.1:5000", False),
    ],
)
def test_only_a_local_store_that_does_not_exist_is_left_unopened(fresh_checkout, uri, missing):
    from ucgov import mlflow_bridge

    assert mlflow_bridge._missing_local_store(uri.format(here=fresh_checkout)) is missing
