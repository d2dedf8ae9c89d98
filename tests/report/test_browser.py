"""`capctl report` rendered by a real headless Chromium: it renders, logs no error, fetches nothing.

Needs Debian's `chromium` and `chromium-driver` (scripts/install-chromium) and selenium (the `test`
extra); skipped, saying why, when they are missing. Screenshots are kept in the test's tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import capctl

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
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

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="chromium and chromedriver not installed (scripts/install-chromium)"
)


@pytest.fixture()
def browser(tmp_path: Path) -> Any:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=900,1200")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def render(browser: Any, page: Path, shot: Path) -> dict[str, Any]:
    """Open `page`, screenshot it whole, and return what the browser saw."""
    browser.get(page.as_uri())
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(900, min(int(height) + 80, 8000))
    browser.save_screenshot(str(shot))
    seen: dict[str, Any] = browser.execute_script(
        """
        const svgs = [...document.querySelectorAll('svg')];
        return {
          lang: document.documentElement.lang,
          title: document.title,
          h2: [...document.querySelectorAll('h2')].map(h => h.textContent),
          svgs: svgs.length,
          drawn: svgs.filter(s => s.getBoundingClientRect().width > 300 && s.querySelectorAll('rect').length)
            .length,
          resources: performance.getEntriesByType('resource').map(r => r.name),
          text: document.body.innerText,
          overflow: document.documentElement.scrollWidth > window.innerWidth,
        };
        """
    )
    seen["logs"] = browser.get_log("browser")
    return seen


def test_the_monthly_report_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "departement-76-2021-04.html"
    res = capctl("report", "--collectivite", "departement-76", "--month", "2021-04", "--out", str(out))
    assert res.returncode == 0, res.stderr
    seen = render(browser, out, tmp_path / "departement-76-2021-04.png")
    assert seen["logs"] == [], seen["logs"]  # no console error nor warning
    assert seen["resources"] == []  # nothing fetched: no network, no external asset
    assert seen["lang"] == "fr" and seen["title"].startswith("Département de la Seine-Maritime")
    assert seen["h2"] == [
        "Ce que le mandat garantit",
        "La dépense du mois et le budget",
        "Les utilisateurs tenus à l'écart, et pourquoi",
        "Les semaines à venir",
    ]
    assert seen["svgs"] == seen["drawn"] == 4
    assert not seen["overflow"]
    assert "mardi 6 avril 2021" in seen["text"] and "contenu dans le budget mensuel de departement-76" in seen["text"]
    assert (tmp_path / "departement-76-2021-04.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_quiet_month_renders_too(browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "region-occitanie-2026-11.html"
    res = capctl("report", "--collectivite", "region-occitanie", "--month", "2026-11", "--out", str(out))
    assert res.returncode == 0, res.stderr
    seen = render(browser, out, tmp_path / "region-occitanie-2026-11.png")
    assert seen["logs"] == [] and seen["resources"] == []
    assert "Aucun utilisateur n'a été tenu à l'écart ce mois-ci" in seen["text"]
    assert seen["drawn"] == 2
