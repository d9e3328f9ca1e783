"""The access page in a real headless Chromium (Debian's, driven by selenium through /usr/bin/chromedriver).

An auditor opens the page from a ticket, offline: it must show the matrix, its filters must work,
and it must fetch nothing, even where a principal's name is HTML that would fetch something.
Where Chromium cannot be had the test skips with the reason, and fails in CI (CI=true).
"""

from __future__ import annotations

import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import server_required

from ucgov.access import Row, Scope, rows
from ucgov.kinds import Kind
from ucgov.render.access import render_access
from ucgov.spec import load_texts
from ucgov.state import Ref

pytestmark = pytest.mark.integration

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

SPEC = """
catalogs:
  prod_ml:
    grants:
      alice@example.com: [USE CATALOG, EXECUTE]
      bob@example.com: [USE CATALOG]
    schemas:
      fraud:
        grants:
          bob@example.com: [USE SCHEMA]
          alice@example.com: [USE SCHEMA]
        models:
          scorer:
            grants:
              bob@example.com: [EXECUTE]
              dave@example.com: [EXECUTE]
"""


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium with a fresh profile; never a browser a tool downloads."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        missing.append(f"selenium ({exc})")
    if missing:
        reason = f"headless Chromium cannot be had here, so the page is not checked: missing {', '.join(missing)}"
        if server_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must never fetch a driver or browser of its own
    profile = tempfile.mkdtemp(prefix="ucgov-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page(tmp_path: Path, found: list[Row]) -> str:
    path = tmp_path / "access.html"
    path.write_text(render_access(found, "html", title="access review"), encoding="utf-8")
    return path.as_uri()


def estate_rows() -> list[Row]:
    return rows(load_texts([("specs/prod.yaml", SPEC)], variables={}), Scope(catalogs=("prod_ml",)))


def visible_principals(browser) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll('tbody tr')].filter(r => !r.hidden).map(r => r.dataset.principal)"
    )


def test_the_page_shows_the_matrix_and_each_cell_says_which_grant_gives_it(browser, tmp_path):
    browser.get(page(tmp_path, estate_rows()))
    assert visible_principals(browser) == ["alice@example.com", "bob@example.com", "dave@example.com"]
    heads = browser.execute_script(
        "return [...document.querySelectorAll('thead th.obj')].map(t => t.firstChild.textContent)"
    )
    assert heads == ["prod_ml", "prod_ml.fraud", "prod_ml.fraud.scorer"]
    cell = browser.execute_script(
        "const r = document.querySelector('tr[data-principal=\"alice@example.com\"]');"
        "return r.querySelectorAll('td')[2].innerText"
    )
    assert "EXECUTE" in cell and "inherited from catalog prod_ml" in cell
    dave = browser.execute_script(
        "return document.querySelector('tr[data-principal=\"dave@example.com\"]').querySelectorAll('td')[2].className"
    )
    assert dave == "unusable"


def test_choosing_a_principal_hides_the_other_rows_and_a_kind_the_other_columns(browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    browser.get(page(tmp_path, estate_rows()))
    Select(browser.find_element("id", "principal")).select_by_value("bob@example.com")
    assert visible_principals(browser) == ["bob@example.com"]
    Select(browser.find_element("id", "kind")).select_by_value("model")
    shown = browser.execute_script(
        "return [...document.querySelectorAll('thead th.obj')].filter(t => !t.hidden).map(t => t.dataset.kind)"
    )
    assert shown == ["model"]
    Select(browser.find_element("id", "principal")).select_by_value("")
    assert len(visible_principals(browser)) == 3


class _Recorder(http.server.BaseHTTPRequestHandler):
    asked: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        _Recorder.asked.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_page_loads_nothing_even_where_a_principal_is_html_that_would(browser, tmp_path):
    listener = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    there = f"http://127.0.0.1:{listener.server_address[1]}"
    hostile = f'<img src="{there}/img"><script src="{there}/js"></script>"><link rel=stylesheet href={there}/css>'
    model = Ref(Kind.MODEL, "prod_ml.fraud.scorer")
    found = [*estate_rows(), Row(hostile, model, "EXECUTE", (model,))]
    try:
        browser.get(page(tmp_path, found))
        browser.execute_script("return document.readyState")
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        names = browser.execute_script("return [...document.querySelectorAll('tbody th')].map(t => t.textContent)")
        assert hostile in names  # shown as text, not run
        assert browser.execute_script("return document.querySelectorAll('tbody img, tbody script').length") == 0
        csp = browser.execute_script(
            "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
        )
        assert "default-src 'none'" in csp
    finally:
        listener.shutdown()
    assert _Recorder.asked == []


def test_the_page_of_a_live_catalog_filters_to_one_principal(browser, ucgov, rest, catalog_name, tmp_path):
    from selenium.webdriver.support.ui import Select
    from test_audit import build

    build(rest, catalog_name)
    result = ucgov("access", "--catalog", catalog_name, "--format", "html")
    assert result.exit_code == 0, result.output
    path = tmp_path / "live.html"
    path.write_text(result.output, encoding="utf-8")
    browser.get(path.as_uri())
    everyone = ["alice@example.com", "bob@example.com", "carol@example.com", "serving-app@example.com"]
    assert visible_principals(browser) == everyone
    Select(browser.find_element("id", "principal")).select_by_value("carol@example.com")
    assert visible_principals(browser) == ["carol@example.com"]
    carol = browser.execute_script(
        "return [...document.querySelector('tr[data-principal=\"carol@example.com\"]').querySelectorAll('td')]"
        ".filter(td => td.innerText).map(td => [td.dataset.kind, td.className, td.innerText])"
    )
    lacks = f"USE CATALOG on catalog {catalog_name}; USE SCHEMA on schema {catalog_name}.fraud"
    assert carol == [["model", "unusable", f"EXECUTE\ndirect; unusable: lacks {lacks}"]]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
