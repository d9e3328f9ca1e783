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
    """The principals the matrix has a column for."""
    return browser.execute_script("return [...document.querySelectorAll('thead th.who')].map(t => t.dataset.principal)")


def visible_objects(browser) -> list[str]:
    """The objects the matrix shows a row for, top to bottom."""
    return browser.execute_script("return [...document.querySelectorAll('tbody tr')].map(r => r.dataset.object)")


def cell(browser, obj: str, principal: str, what: str = "innerText"):
    return browser.execute_script(
        f'return document.querySelector(\'tr[data-object="{obj}"] td[data-principal="{principal}"]\').{what}'
    )


def test_the_page_shows_the_matrix_and_each_cell_says_which_grant_gives_it(browser, tmp_path):
    browser.get(page(tmp_path, estate_rows()))
    assert visible_principals(browser) == ["alice@example.com", "bob@example.com", "dave@example.com"]
    assert visible_objects(browser) == ["prod_ml", "prod_ml.fraud", "prod_ml.fraud.scorer"]
    alice = cell(browser, "prod_ml.fraud.scorer", "alice@example.com")
    assert "EXECUTE" in alice and "inherited from catalog prod_ml" in alice
    assert cell(browser, "prod_ml.fraud.scorer", "dave@example.com", "className") == "unusable"
    red = browser.execute_script("return getComputedStyle(document.querySelector('td.unusable')).backgroundColor")
    assert red == "rgb(253, 236, 234)"  # the page's own style ran: its hash is in the policy
    assert browser.find_element("id", "showing").text == "Showing 1\u20133 of 3 objects"


def test_choosing_a_principal_hides_the_others_and_what_they_alone_hold_and_a_kind_the_other_rows(browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    browser.get(page(tmp_path, estate_rows()))
    Select(browser.find_element("id", "principal")).select_by_value("dave@example.com")
    assert visible_principals(browser) == ["dave@example.com"]
    assert visible_objects(browser) == ["prod_ml.fraud.scorer"]  # dave holds nothing on the others
    Select(browser.find_element("id", "principal")).select_by_value("bob@example.com")
    Select(browser.find_element("id", "kind")).select_by_value("model")
    assert visible_objects(browser) == ["prod_ml.fraud.scorer"]
    assert browser.find_element("id", "showing").text == "Showing 1\u20131 of 1 objects (3 in all)"
    Select(browser.find_element("id", "principal")).select_by_value("")
    Select(browser.find_element("id", "kind")).select_by_value("")
    assert len(visible_principals(browser)) == 3 and len(visible_objects(browser)) == 3


def search(browser, text: str) -> None:
    """Types ``text`` into the object name filter, as a person would, over what was there."""
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element("id", "name")
    box.send_keys(Keys.CONTROL + "a", Keys.DELETE)
    box.send_keys(text)


def estate_of(models: int) -> str:
    """2 catalogs of 10 schemas of models//20 models; 5 teams: each catalog's and schema's usage for
    two of them, EXECUTE on each model for one, and for an auditor group on every tenth."""
    teams = [f"team{t}@example.com" for t in range(5)]
    lines = ["catalogs:"]
    for c in range(2):
        lines += [
            f"  c{c}:",
            f"    grants: {{{teams[c]}: [USE CATALOG], {teams[c + 2]}: [USE CATALOG]}}",
            "    schemas:",
        ]
        for s in range(10):
            lines += [f"      s{s}:", f"        grants: {{{teams[c]}: [USE SCHEMA]}}", "        models:"]
            for m in range(models // 20):
                auditor = ", auditors@example.com: [EXECUTE]" if m % 10 == 0 else ""
                lines.append(f"          m{m:03}: {{grants: {{{teams[(c + s + m) % 5]}: [EXECUTE]{auditor}}}}}")
    return "\n".join(lines) + "\n"


def test_a_page_of_thousands_of_objects_shows_them_a_page_at_a_time_and_filters_them_all(browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    found = rows(load_texts([("specs/big.yaml", estate_of(2000))], variables={}))
    browser.get(page(tmp_path, found))
    showing = browser.find_element("id", "showing")
    assert showing.text == "Showing 1\u2013200 of 2,022 objects"
    assert len(visible_objects(browser)) == 200 and visible_objects(browser)[0] == "c0"
    assert browser.find_element("id", "prev").get_attribute("disabled") is not None
    browser.find_element("id", "next").click()
    assert showing.text == "Showing 201\u2013400 of 2,022 objects"
    search(browser, "c1.s9.m099")  # the last object of all
    assert visible_objects(browser) == ["c1.s9.m099"]
    assert showing.text == "Showing 1\u20131 of 1 objects (2,022 in all)"
    assert "EXECUTE" in cell(browser, "c1.s9.m099", "team4@example.com")  # (1 + 9 + 99) % 5
    search(browser, "s9.m09")  # m090 to m099 in both catalogs
    assert len(visible_objects(browser)) == 20
    Select(browser.find_element("id", "principal")).select_by_value("auditors@example.com")
    assert visible_principals(browser) == ["auditors@example.com"]
    assert visible_objects(browser) == ["c0.s9.m090", "c1.s9.m090"]
    search(browser, "")
    assert showing.text == "Showing 1\u2013200 of 200 objects (2,022 in all)"  # every tenth model
    assert browser.find_element("id", "next").get_attribute("disabled") is not None
    assert browser.execute_script("return document.querySelectorAll('td').length") == 200


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
    breaks_out = "</script><script>document.body.dataset.ran='yes'</script><!--"  # would end the data block
    found = [*estate_rows(), Row(hostile, model, "EXECUTE", (model,)), Row(breaks_out, model, "EXECUTE", (model,))]
    try:
        browser.get(page(tmp_path, found))
        browser.execute_script("return document.readyState")
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        assert sorted(visible_principals(browser))[0] == breaks_out
        assert hostile in visible_principals(browser)  # shown as text, not run
        assert browser.execute_script("return document.querySelectorAll('table img, table script').length") == 0
        assert browser.execute_script("return document.body.dataset.ran || 'no'") == "no"
        csp = browser.execute_script(
            "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
        )
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
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
        "return [...document.querySelectorAll('tbody tr')]"
        ".map(tr => [tr.dataset.kind, tr.querySelector('td').className, tr.querySelector('td').innerText])"
    )
    lacks = f"USE CATALOG on catalog {catalog_name}; USE SCHEMA on schema {catalog_name}.fraud"
    assert carol == [["model", "unusable", f"EXECUTE\ndirect; unusable: lacks {lacks}"]]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
