"""Open a report in headless Chromium (the system chromium + chromium-driver, through
Selenium) and say what a reader's browser saw: images, console errors, network requests,
the page's text and tables; optionally a screenshot.

Used by the suite (``tests/gwas/test_report_browser.py``) and by ``make screenshot``
(``python -m tests.browser RUN_DIR OUT.png``), so the README's screenshot comes from the
path the test checks. Nothing is downloaded: the driver and browser are the system's.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path


def browser_missing() -> str | None:
    """Why the browser cannot run here, or ``None``."""
    missing = [t for t in ("chromium", "chromedriver") if shutil.which(t) is None]
    if missing:
        return (f"needs {' and '.join(missing)} (make setup installs chromium and "
                "chromium-driver as root; otherwise: sudo apt-get install chromium "
                "chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (pip install -e '.[dev]')"
    return None


@dataclass
class PageVisit:
    """What the browser saw on one page."""

    images: list[dict] = field(default_factory=list)  # src, complete, naturalWidth, shown
    console: list[dict] = field(default_factory=list)  # level, message
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    text: str = ""
    tables: list[list[list[str]]] = field(default_factory=list)  # rows of cells per table
    alert: str | None = None
    #: tables wider than their box at this window width: first header cell, widths
    overflowing: list[dict] = field(default_factory=list)


def visit(page: Path, screenshot: Path | None = None, width: int = 1280) -> PageVisit:
    """Load ``page`` (a file) in headless Chromium and collect :class:`PageVisit`."""
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},900", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get(page.resolve().as_uri())
        driver.execute_script("return document.readyState")
        seen = PageVisit()
        try:
            seen.alert = driver.switch_to.alert.text
            driver.switch_to.alert.dismiss()
        except NoAlertPresentException:
            pass
        seen.images = driver.execute_script(
            "return Array.from(document.images).map(i => ({src: i.getAttribute('src'), "
            "complete: i.complete, naturalWidth: i.naturalWidth, shown: i.width}))")
        seen.console = [{"level": e["level"], "message": e["message"]}
                        for e in driver.get_log("browser")]
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                seen.requests.append(msg["params"]["request"]["url"])
        seen.text = driver.execute_script("return document.body.innerText")
        seen.tables = driver.execute_script(
            "return Array.from(document.querySelectorAll('table')).map(t => "
            "Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText)))")
        seen.overflowing = driver.execute_script(
            "return Array.from(document.querySelectorAll('div.scroll')).filter(d => "
            "d.scrollWidth > d.clientWidth + 1).map(d => ({first: (d.querySelector('th') || "
            "{}).innerText, scroll: d.scrollWidth, client: d.clientWidth}))")
        if screenshot is not None:
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(width, min(int(height), 2400))
            driver.save_screenshot(str(screenshot))
        return seen
    finally:
        driver.quit()


def main() -> None:
    """``python -m tests.browser RUN_DIR OUT.png``: report RUN_DIR and screenshot it."""
    from report.page import build_report

    run, png = Path(sys.argv[1]), Path(sys.argv[2])
    why = browser_missing()
    if why:
        raise SystemExit(why)
    page = build_report(run, run / "report")
    seen = visit(page, screenshot=png)
    bad = [i for i in seen.images if not i["naturalWidth"]]
    print(f"{page}: {len(seen.images)} images ({len(bad)} not loaded), "
          f"{len(seen.requests)} requests -> {png}")


if __name__ == "__main__":
    main()
