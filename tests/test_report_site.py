"""The account-health site (`mailkeeper report`) in a real headless Chromium: no console error,
no request outside the site, the figures equal the --json listings, an injected <script>
never runs. Plus the parts that need no browser: slugs, escaping in the charts, report.out."""

from __future__ import annotations

import html
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailkeeper.cli import cli
from mailkeeper.demo.build import last_years_orders
from mailkeeper.report import charts
from mailkeeper.report.slug import slugs
from tests.conftest import make_mail

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
EVIL = (
    "<script>document.title='pwned';window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"
)


def test_slugs() -> None:
    got = slugs([(1, "Delta Retail"), (2, "华美家居"), (3, "Café  Ipê!"), (4, "delta retail"),
                 (5, "华美家居 Huamei Home")])  # fmt: skip
    assert got == {1: "delta-retail", 2: "2", 3: "cafe-ipe", 4: "delta-retail-4",
                   5: "huamei-home"}  # fmt: skip


def test_chart_labels_are_escaped_and_carry_no_script() -> None:
    svg = charts.milestones(EVIL, [EVIL, "ok"], [1, 2], [1, None])
    assert "<script" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg


def test_report_out_in_mailkeeper_yaml(tmp_path: Path) -> None:
    from mailkeeper.config.settings import load_settings
    from mailkeeper.demo.build import build_demo

    cfg = build_demo(tmp_path / "demo", NOW)
    cfg.write_text(cfg.read_text() + "report:\n  out: ./site\n")
    assert load_settings(cfg).report_out == cfg.parent / "site"
    cfg.write_text(cfg.read_text() + "  where: x\n")
    with pytest.raises(Exception, match="report: unknown key 'where'"):
        load_settings(cfg)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mailkeeper.demo.build import build_demo

    root = tmp_path_factory.mktemp("site")
    cfg = build_demo(root / "demo", NOW)
    # a customer's mail whose subject and text try to run a script on the rep's page
    raw = make_mail("Jane Oak <jane.oak@birch.co.uk>", "amy@lumen-furniture.com", EVIL,
                    f"Hello Amy,\n\n{EVIL}\n\nJane", date=NOW - timedelta(hours=5))  # fmt: skip
    (root / "demo" / "Maildir" / "cur" / "evil:2,S").write_bytes(raw)
    runner = CliRunner()

    def run(*args: str) -> Any:
        r = runner.invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    run("sync")
    confirmed = (NOW - timedelta(days=9)).date().isoformat()
    run("order", "add", "Huamei", "HM-2610", "--confirmed", confirmed)
    for ref, _, shipped, *_ in last_years_orders(NOW):  # the demo's orders of last year
        run("order", "event", ref, "shipped", "--date", shipped.isoformat())
    out = root / "out"
    printed = run("report", "--out", str(out), "--as-of", NOW.isoformat())
    assert str(out / "index.html") in printed
    as_of = ["--as-of", NOW.isoformat(), "--json"]
    # the report card of last year, and its draft's HTML part as a page of its own
    card = json.loads(run("report-card", "Birch & Co", "--dry-run", *as_of))
    (root / "card.html").write_text(card["draft"]["html"], encoding="utf-8")
    return {
        "cfg": cfg,
        "card": card,
        "card_html": root / "card.html",
        "out": out,
        "customers": json.loads(run("customers", *as_of)),
        "neglected": json.loads(run("neglected", "--all", *as_of)),
        "issues": json.loads(run("issues", "--all", *as_of)),
        "orders": json.loads(run("orders", "--all", *as_of)),
    }


def test_pages_drawn_by_worker_processes_are_those_drawn_here(
    site: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from mailkeeper.app import App
    from mailkeeper.report import painter

    monkeypatch.setattr(painter, "SMALL_SITE", 1)  # the demo's 7 customers: workers all the same
    with App.from_config(site["cfg"]) as app:
        here = app.report(tmp_path / "here", NOW, workers=1)
        there = app.report(tmp_path / "there", NOW, workers=2)
    assert here["pages"] == there["pages"] == len(site["customers"])

    def files(root: Path) -> dict[str, str]:
        # pygal gives every chart a random id; nothing else may differ
        ids = re.compile(r"chart-[0-9a-f-]{36}")
        return {p.relative_to(root).as_posix(): ids.sub("chart", p.read_text())
                for p in sorted(root.rglob("*.html"))}  # fmt: skip

    assert files(tmp_path / "here") == files(tmp_path / "there")


def test_site_files(site: dict[str, Any]) -> None:
    out = site["out"]
    names = sorted(p.name for p in (out / "customers").iterdir())
    assert "birch-co.html" in names and "huamei-home.html" in names
    assert len(names) == len(site["customers"])
    index = (out / "index.html").read_text()
    for page in [index, (out / "customers" / "birch-co.html").read_text()]:
        assert "<script" not in page
        assert "://" not in page.replace('"http://www.w3.org/', "")  # only SVG namespaces
    assert "&lt;script&gt;document.title" in (out / "customers" / "birch-co.html").read_text()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    webdriver = pytest.importorskip("selenium.webdriver")
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/test installs them)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--no-first-run", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1280,800",
              f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:  # fmt: skip
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    yield driver
    driver.quit()


def _load(browser: Any, path: Path) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get_log("performance")
    browser.get(path.as_uri())


def _problems(browser: Any) -> list[str]:
    """Console errors and any request that is not a file of the site or failed."""
    bad = [f"console: {e['message']}" for e in browser.get_log("browser")
           if e["level"] in ("SEVERE", "WARNING")]  # fmt: skip
    ours: set[str] = set()
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            if not params.get("documentURL", "").startswith("file://"):
                continue  # the browser's own pages (chrome://new-tab-page), not the site's
            ours.add(params["requestId"])
            url = params["request"]["url"]
            if not url.startswith(("file://", "data:")):
                bad.append(f"request: {url}")
        elif msg["method"] == "Network.loadingFailed" and params.get("requestId") in ours:
            bad.append(f"failed: {params.get('errorText')}")
    return bad


def _text(el: Any, css: str) -> str:
    return el.find_element("css selector", css).text.strip()


def _attr(el: Any, css: str, name: str) -> str | None:
    return el.find_element("css selector", css).get_attribute(name) or None


def test_overview_in_chromium(site: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _load(browser, site["out"] / "index.html")
    assert _problems(browser) == []
    rows = browser.find_elements(By.CSS_SELECTOR, "#customers tbody tr")
    by_name = {r.get_attribute("data-customer"): r for r in rows}
    assert set(by_name) == {c["name"] for c in site["customers"]}
    for c in site["customers"]:
        row = by_name[c["name"]]
        assert _text(row, ".messages") == str(c["messages"])
        assert _text(row, ".tier") == (c["tier"] or "")
        assert _attr(row, ".last_inbound", "datetime") == c["last_inbound"]
        assert _attr(row, ".last_outbound", "datetime") == c["last_outbound"]
        orders = [o for o in site["orders"] if o["customer"] == c["name"]]
        assert _text(row, ".orders_in_progress") == str(sum(o["state"] != "closed" for o in orders))
        issues = [i for i in site["issues"] if i["customer"] == c["name"]]
        neglect = [n for n in site["neglected"] if n["customer"] == c["name"]]
        health = _attr(row, "[data-health]", "data-health")
        if any(i["state"] in ("open", "overdue") for i in issues):
            assert health == "issue open"
        elif any(o["state"] in ("late", "problem") for o in orders):
            assert health == "order late"
        elif neglect and neglect[0]["state"] in ("neglected", "dormant"):
            assert health == neglect[0]["state"]
        else:
            assert health == "on track"
    # worst first: the health column never gets better going down
    order = ["issue open", "order late", "neglected", "dormant", "on track"]
    ranks = [order.index(_attr(r, "[data-health]", "data-health")) for r in rows]
    assert ranks == sorted(ranks)
    attention = sum(r <= 2 for r in ranks)
    assert browser.find_element(By.CSS_SELECTOR, "[data-attention]").text == str(attention)
    browser.save_screenshot(str(tmp_path / "overview-1280.png"))
    browser.set_window_size(390, 844)
    browser.save_screenshot(str(tmp_path / "overview-phone.png"))
    browser.set_window_size(1280, 800)
    assert _problems(browser) == []


def _card_figures(browser: Any) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    cells = browser.find_elements(By.CSS_SELECTOR, "#report-card [data-figure]")
    return {e.get_attribute("data-figure"): e.text.strip() for e in cells}


def test_report_card_in_chromium(site: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    """The yearly report card on the customer's page and in its draft's HTML part shows the
    figures of `report-card --json`; nothing without data is shown."""
    card = site["card"]
    o, t = card["orders"], card["on_time"]
    assert card["problems"] is None and card["issues"] is None  # the demo's 2025: no mail
    want = {
        "orders": str(o["count"]),
        "quantity": o["quantity_text"],
        "on-time": f"{t['on_time']} of {t['shipped']} ({t['percent']}%)",
        **{f"amount-{a['currency']}": f"{a['currency']} {a['text']}" for a in o["amounts"]},
    }
    assert want == {"orders": "4", "quantity": "650", "on-time": "3 of 4 (75%)",
                    "amount-GBP": "GBP 6,200", "amount-USD": "USD 42,700.50"}  # fmt: skip
    _load(browser, site["out"] / "customers" / "birch-co.html")
    assert _problems(browser) == []
    assert _card_figures(browser) == want
    _load(browser, site["card_html"])
    assert _problems(browser) == []
    assert _card_figures(browser) == want
    text = browser.find_element("css selector", "body").text
    assert "What else can we do for you next year?" in text and "nan" not in text.lower()
    browser.save_screenshot(str(tmp_path / "report-card.png"))


def test_customer_page_in_chromium(site: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    _load(browser, site["out"] / "customers" / "birch-co.html")
    problems = _problems(browser)
    assert problems == []
    assert browser.title.startswith("Birch & Co")
    assert browser.execute_script("return window.pwned === undefined")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    subjects = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#messages .subject")]
    assert EVIL in subjects  # shown as text, not run
    [c] = [c for c in site["customers"] if c["name"] == "Birch & Co"]
    assert _text(browser, ".messages") == str(c["messages"])
    assert _attr(browser, ".last_inbound", "datetime") == c["last_inbound"]
    shown = {e.get_attribute("data-finding"): _text(e, ".state")
             for e in browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr")}  # fmt: skip
    assert {str(i["id"]): i["state"] for i in site["issues"]
            if i["customer"] == "Birch & Co"}.items() <= shown.items()  # fmt: skip
    assert browser.find_elements(By.CSS_SELECTOR, ".chart svg")
    browser.save_screenshot(str(tmp_path / "birch-1280.png"))
    _load(browser, site["out"] / "customers" / "huamei-home.html")
    assert _problems(browser) == []
    assert "华美家居" in _text(browser, "#name")
    [o] = [o for o in site["orders"] if o["ref"] == "HM-2610"]
    assert _text(browser, '[data-order="HM-2610"] .state') == o["state"]
    browser.save_screenshot(str(tmp_path / "huamei-1280.png"))
    browser.set_window_size(390, 844)
    browser.save_screenshot(str(tmp_path / "huamei-phone.png"))
    browser.set_window_size(1280, 800)


def test_a_customers_page_shows_what_they_said_they_will_need(site: dict[str, Any]) -> None:
    """Issues 21 and 22: the need the demo's Kauri Living stated is on its page, with the
    window `needs --json` gives it (and a customer who said nothing says so)."""
    runner = CliRunner()
    r = runner.invoke(cli, ["--config", str(site["cfg"]), "needs", "--json"])
    assert r.exit_code == 0, r.output
    [need] = [n for n in json.loads(r.output) if n["customer"] == "Kauri Living"]
    page = (site["out"] / "customers" / "kauri-living.html").read_text()
    assert f'data-need="{need["id"]}"' in page
    assert need["window_start"] in page and need["window_end"] in page
    assert html.escape(need["sentence"], quote=False) in page
    said = {n["customer"] for n in json.loads(r.output)}
    quiet = [c["name"] for c in site["customers"] if c["name"] not in said]
    assert quiet, said
    pages = {
        p.read_text().count("Nothing said yet.") for p in (site["out"] / "customers").iterdir()
    }
    assert pages == {0, 1}  # a page per customer: those who said nothing say so
