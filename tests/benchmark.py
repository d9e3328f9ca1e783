"""The performance record: validate, plan and apply at N models, against a floor, from one run.

    python tests/benchmark.py                     # N = 100 and 1,000 (a few minutes)
    python tests/benchmark.py --sizes 100,1000,10000

Starts a real sandbox server. For each N it writes specs of N models in 10 schemas of 2
catalogs (1-2 grants each) and measures, in this order:

- validate: `ucgov validate` as a process (start-up included);
- fresh apply: ucgov's apply of those specs to an empty server, its requests per object;
- apply floor: a bare httpx client making only the minimum requests for the same objects
  (one create per object, one depth at a time, then one grants PATCH per object), at the
  parallelism ucgov uses, into a second set of catalogs;
- no-op plan: its requests per model and the time to read and diff in-process ("plan
  reads"), then `ucgov plan` as a process (start-up included) and its peak memory;
- plan floor: the same GETs ucgov's plan sent, replayed by a bare httpx client, best of 8,
  16 and 32 in flight;
- access: what `ucgov access --catalog` of both catalogs reads in-process ("access reads",
  the rows included) and its requests per object, then `ucgov access` as a process and its
  peak memory, each beside the no-op plan's; then the size of each format and the time to
  render it from the rows, and, where headless Chromium is installed, the time the HTML page
  takes to load and to filter to one principal.

It prints a table; it asserts nothing (the machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from ucgov import sandbox
from ucgov.access import Scope, rows
from ucgov.apply import apply_checked, check
from ucgov.client import API, UCClient
from ucgov.live import read_grants_inside, read_state
from ucgov.lock import apply_lock
from ucgov.planner import diff
from ucgov.render.access import FORMATS, render_access
from ucgov.spec import load_specs

USERS = ("bench@example.com", "reader@example.com")
PARALLELISM = 16


class Counting(httpx.HTTPTransport):
    """The real transport, recording each request that goes out."""

    def __init__(self) -> None:
        super().__init__(limits=httpx.Limits(max_connections=64))
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, str(request.url)))
        return super().handle_request(request)


def spec_text(models: int, prefix: str) -> str:
    """N models in 10 schemas of 2 catalogs; every object with 1 or 2 grants."""
    lines = ["catalogs:"]
    for c in range(2):
        lines += [f"  {prefix}{c}:", f"    grants: {{{USERS[0]}: [USE CATALOG]}}", "    schemas:"]
        for s in range(5):
            lines += [f"      s{s}:", f"        grants: {{{USERS[0]}: [USE SCHEMA]}}", "        models:"]
            for m in range(models // 10):
                second = f", {USERS[1]}: [EXECUTE]" if m % 2 else ""
                lines.append(f"          m{m}: {{grants: {{{USERS[0]}: [EXECUTE]{second}}}}}")
    return "\n".join(lines) + "\n"


def ucgov_process(server: sandbox.Sandbox, *args: str) -> tuple[float, float]:
    """(seconds, peak MiB) of ``ucgov ARGS`` as a process, its output discarded."""
    env = {**os.environ, "UCGOV_URL": server.url, "UCGOV_TOKEN": server.token}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen([sys.executable, "-m", "ucgov", *args], env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest child's so far
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if child.returncode not in (0, 2):  # 2: plan --detailed-exitcode with changes
            out.seek(0)
            raise SystemExit(f"ucgov {' '.join(args)} failed: {out.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def fresh_apply(server: sandbox.Sandbox, specs: Path) -> tuple[float, int, int]:
    """(seconds, requests, objects) for ucgov applying the specs to an empty server."""
    counting = Counting()
    started = time.perf_counter()
    with UCClient(server.url, token=server.token, transport=counting) as client:
        desired = load_specs([specs])
        live = read_state(client, desired, concurrency=PARALLELISM)
        checked = check(diff(desired, live), live)
        with apply_lock(client):
            apply_checked(checked, client, parallelism=PARALLELISM)
    return time.perf_counter() - started, len(counting.sent), len(desired.objects)


def apply_floor(server: sandbox.Sandbox, models: int) -> float:
    """Seconds for the minimum requests that make the same objects and grants, with a bare client."""
    desired = load_specs([_write(spec_text(models, f"floor{models}_"))])
    headers = {"Authorization": f"Bearer {server.token}"}
    limits = httpx.Limits(max_connections=PARALLELISM)
    started = time.perf_counter()
    with httpx.Client(base_url=server.url + API, headers=headers, limits=limits) as http:
        with ThreadPoolExecutor(PARALLELISM) as pool:
            for depth in (1, 2, 3):
                level = [o for o in desired.ordered() if o.kind.depth == depth]
                list(pool.map(lambda o: _create(http, o.full_name), level))
            list(pool.map(lambda o: _grant(http, o), desired.ordered()))
    return time.perf_counter() - started


def plan_floor(server: sandbox.Sandbox, sent: list[tuple[str, str]]) -> float:
    """Seconds for a bare client to send the same GETs, at its best of 8, 16 and 32 in flight."""
    headers = {"Authorization": f"Bearer {server.token}"}
    urls = [url for method, url in sent if method == "GET"]
    best = float("inf")
    for inflight in (8, 16, 32):
        with httpx.Client(headers=headers, limits=httpx.Limits(max_connections=inflight)) as http:
            started = time.perf_counter()
            with ThreadPoolExecutor(inflight) as pool:
                list(pool.map(lambda u: http.get(u).raise_for_status(), urls))
            best = min(best, time.perf_counter() - started)
    return best


def noop_plan_requests(server: sandbox.Sandbox, specs: Path) -> tuple[list[tuple[str, str]], int, float]:
    """(the requests of a no-op plan, the number of models, seconds spent reading and diffing in-process)."""
    counting = Counting()
    with UCClient(server.url, token=server.token, transport=counting) as client:
        desired = load_specs([specs])
        started = time.perf_counter()
        plan = diff(desired, read_state(client, desired, concurrency=PARALLELISM))
        seconds = time.perf_counter() - started
    assert plan.empty, plan.summary()
    return counting.sent, sum(1 for o in desired.objects.values() if o.kind.depth == 3), seconds


def access_figures(server: sandbox.Sandbox, models: int) -> dict[str, float]:
    """What ``ucgov access --catalog`` of the run's two catalogs costs, read, rendered and viewed."""
    catalogs = [f"n{models}_{c}" for c in range(2)]
    counting = Counting()
    figures: dict[str, float] = {}
    with UCClient(server.url, token=server.token, transport=counting) as client:
        started = time.perf_counter()
        state = read_grants_inside(client, catalogs, concurrency=PARALLELISM)
        found = rows(state, Scope(catalogs=tuple(catalogs)))
        figures["access reads"] = time.perf_counter() - started
    figures["access per object"] = len(counting.sent) / len(state.objects)
    figures["access rows"] = len(found)
    args = [a for c in catalogs for a in ("--catalog", c)]
    figures["access"], figures["access MiB"] = ucgov_process(server, "access", *args)
    for fmt in FORMATS:
        started = time.perf_counter()
        text = render_access(found, fmt)
        figures[f"{fmt} render"] = time.perf_counter() - started
        figures[f"{fmt} MB"] = len(text.encode()) / 1e6
        if fmt == "html":
            figures |= browser_figures(text)
    return figures


def browser_figures(html: str) -> dict[str, float]:
    """Seconds headless Chromium takes to load the page and to filter it to its last principal; none without it."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import Select
    except ImportError:
        return {}
    if not Path("/usr/bin/chromium").exists():
        return {}
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    folder = Path(tempfile.mkdtemp(prefix="ucgov-bench-html-"))
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(flag)
    (folder / "access.html").write_text(html, encoding="utf-8")
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        driver.set_page_load_timeout(600)
        started = time.perf_counter()
        driver.get((folder / "access.html").as_uri())
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        chooser = Select(driver.find_element("id", "principal"))
        chooser.select_by_index(len(chooser.options) - 1)  # the last principal
        driver.execute_script("return document.body.offsetHeight")  # the filtered page laid out
        return {"html load": loaded, "html filter": time.perf_counter() - started}
    finally:
        driver.quit()


def _create(http: httpx.Client, full_name: str) -> None:
    parts = full_name.split(".")
    body: dict = {"name": parts[-1]}
    path = ("/catalogs", "/schemas", "/models")[len(parts) - 1]
    if len(parts) > 1:
        body["catalog_name"] = parts[0]
    if len(parts) > 2:
        body["schema_name"] = parts[1]
    http.post(path, json=body).raise_for_status()


def _grant(http: httpx.Client, obj) -> None:
    changes = [{"principal": p, "add": sorted(privs), "remove": []} for p, privs in obj.grants.items()]
    http.patch(f"/permissions/{obj.kind.value}/{obj.full_name}", json={"changes": changes}).raise_for_status()


def _write(text: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ucgov-bench-"))
    (folder / "specs.yaml").write_text(text)
    return folder


def measure(server: sandbox.Sandbox, models: int) -> dict[str, float]:
    specs = _write(spec_text(models, f"n{models}_"))
    figures: dict[str, float] = {"validate": ucgov_process(server, "validate", str(specs))[0]}
    figures["apply"], apply_requests, objects = fresh_apply(server, specs)
    figures["apply per object"] = apply_requests / objects
    figures["apply floor"] = apply_floor(server, models)
    sent, model_count, figures["plan reads"] = noop_plan_requests(server, specs)
    figures["plan per model"] = len(sent) / model_count
    figures["plan"], figures["plan MiB"] = ucgov_process(server, "plan", str(specs), "--detailed-exitcode")
    figures["plan floor"] = plan_floor(server, sent)
    return figures | access_figures(server, models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated model counts (e.g. 100,1000,10000)")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    measured = []
    with tempfile.TemporaryDirectory() as base:
        server = sandbox.start(port, users=USERS, base=Path(base))
        try:
            for size in (int(n) for n in args.sizes.split(",")):
                measured.append((size, measure(server, size)))
                print(f"measured N = {size}", file=sys.stderr)
        finally:
            sandbox.stop(port, base=Path(base))
    print(f"machine: {os.cpu_count()} cores; parallelism {PARALLELISM}; times in seconds, one run each")
    header = (
        "| N models | validate | plan req/model | plan (process) | plan reads | plan floor | reads/floor "
        "| apply req/object | apply | apply floor | apply/floor | plan peak MiB |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for size, f in measured:
        print(
            f"| {size:,} | {f['validate']:.2f} | {f['plan per model']:.2f} | {f['plan']:.2f} | {f['plan reads']:.2f} | "
            f"{f['plan floor']:.2f} | {f['plan reads'] / f['plan floor']:.2f} | {f['apply per object']:.2f} | "
            f"{f['apply']:.2f} | {f['apply floor']:.2f} | "
            f"{f['apply'] / f['apply floor']:.2f} | {f['plan MiB']:.0f} |"
        )
    access_table(measured)


def access_table(measured: list[tuple[int, dict[str, float]]]) -> None:
    header = (
        "| N models | access rows | access req/object | access (process) | access/plan | access reads "
        "| reads/plan reads | access peak MiB |"
        + "".join(f" {fmt} MB, render s |" for fmt in FORMATS)
        + " html load s | html filter s |"
    )
    print()
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for size, f in measured:
        formats = "".join(f" {f[fmt + ' MB']:.2f}, {f[fmt + ' render']:.2f} |" for fmt in FORMATS)
        browser = "".join(f" {f[k]:.2f} |" if k in f else " - |" for k in ("html load", "html filter"))
        print(
            f"| {size:,} | {f['access rows']:,.0f} | {f['access per object']:.2f} | {f['access']:.2f} "
            f"| {f['access'] / f['plan']:.2f} | {f['access reads']:.2f} | {f['access reads'] / f['plan reads']:.2f} "
            f"| {f['access MiB']:.0f} |{formats}{browser}"
        )


if __name__ == "__main__":
    main()
