"""Open every page of the built book in headless Chromium, as a reader would.

Fails if a page is missing, an image does not load, an error or traceback shows, or a chapter lacks
its Colab button. Outside CI it skips when Chromium is not installed; in CI (CI=true) it fails.
"""

import os
import shutil
from pathlib import Path

import pytest

from augrnn.book.runbook import toc_files

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
pytestmark = pytest.mark.book

PAGES = [p.relative_to(ROOT).with_suffix(".html") for p in toc_files(ROOT)]


def harmless(entry) -> bool:
    msg = entry["message"]
    # CI has no internet: MathJax and other CDN assets cannot load there (readers online get them).
    if entry["source"] == "network" and msg.startswith("http"):
        return True
    # pydata-sphinx-theme logs this when localStorage holds no theme yet (first visit).
    return "Got invalid theme mode" in msg


def settled(check, seconds: float = 3.0):
    """`check()` once it is truthy, polling for up to `seconds` (Plotly redraws asynchronously after an
    event: a check made at once can run before the redraw)."""
    import time

    end = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < end:
        time.sleep(0.1)
    return result


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not (chromium and driver_bin):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI (.ci/run installs them)")
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--allow-file-access-from-files",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def test_index_exists():
    assert (HTML / "index.html").exists(), "build the book first (make html)"


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page_renders(browser, page):
    path = HTML / page
    assert path.exists(), f"{page} is missing from the built book"
    browser.get(path.as_uri())
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")  # trigger lazy images
    broken = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const imgs = Array.from(document.images);
        Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })))
          .then(() => done(imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.src)));
    """)
    assert broken == [], f"images that did not load on {page}: {broken}"
    text = browser.find_element("tag name", "article").text
    for bad in ("Traceback (most recent call last)", "Error:", "NameError", "FileNotFoundError"):
        assert bad not in text, f"{page} shows {bad!r}"
    assert not browser.find_elements("css selector", ".output.traceback, .output.error")
    if page.suffix == ".html" and (ROOT / page.with_suffix(".ipynb")).exists():
        links = [a.get_attribute("href") or "" for a in browser.find_elements("css selector", "a")]
        assert any("colab.research.google.com" in h for h in links), f"{page} has no Colab button"
        if page.stem != "appendix_reproducibility":
            assert browser.find_elements("css selector", "img"), f"{page} shows no figure"
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and not harmless(e)]
    assert severe == [], f"console errors on {page}: {severe}"


# The chapters' interactive figures (augrnn.book.interactive): how many each page has.
INTERACTIVE = {"book/ntm.html": 1, "book/attention.html": 1, "book/act.html": 2}


@pytest.mark.parametrize("page", sorted(INTERACTIVE), ids=str)
def test_interactive_figures_render_and_respond(browser, page):
    """Every Plotly figure draws (plotly.js is in the page: no network), a hover over a data point shows
    its label, and a slider, where there is one, changes the plotted data when moved."""
    from selenium.webdriver.common.action_chains import ActionChains

    browser.set_window_size(772, 1000)  # the book's content width
    browser.get((HTML / page).as_uri())
    figs = browser.find_elements("css selector", ".js-plotly-plot")
    assert len(figs) == INTERACTIVE[page], f"{page}: {len(figs)} interactive figures"
    for gd in figs:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", gd)
        assert gd.find_elements("css selector", ".main-svg"), "the figure did not draw"
        rails = gd.find_elements("css selector", ".slider-rail-touch-rect")
        if rails:
            y = "return arguments[0]._fullData.map(d => Array.from(d.y || []).join(',')).join(';')"
            before = browser.execute_script(y, gd)
            rail = rails[0]
            ActionChains(browser).move_to_element_with_offset(rail, rail.size["width"] // 4, 0).click().perform()
            moved = settled(lambda: browser.execute_script(y, gd) != before)
            assert moved, "moving the slider changed nothing"
        points = gd.find_elements("css selector", ".heatmaplayer image") or gd.find_elements(
            "css selector", ".scatterlayer .points path"
        )
        assert points, "nothing to hover"
        ActionChains(browser).move_to_element(points[len(points) // 2]).perform()
        labels = settled(lambda: [t.text for t in gd.find_elements("css selector", ".hoverlayer .hovertext") if t.text])
        assert labels, "hovering a data point shows no label"


@pytest.mark.parametrize("page", [p for p in PAGES if (ROOT / p.with_suffix(".ipynb")).exists()], ids=str)
def test_every_figure_has_a_number_a_caption_and_alt_text(browser, page):
    browser.get((HTML / page).as_uri())
    for img in browser.find_elements("css selector", "article img"):
        alt = img.get_attribute("alt") or ""
        assert alt.strip() and not alt.startswith("_images"), f"{page}: an image without alt text"
        caption = browser.execute_script(
            "const f = arguments[0].closest('figure'); const c = f && f.querySelector('figcaption');"
            "return c ? c.textContent : ''",
            img,
        )
        assert caption.strip().startswith("Fig."), f"{page}: an image without a numbered caption ({alt})"


@pytest.mark.parametrize("page", [p for p in PAGES if (ROOT / p.with_suffix(".ipynb")).exists()], ids=str)
def test_code_fits_the_content_width(browser, page):
    browser.set_window_size(1100, 900)  # the content column is 772 px wide here
    browser.get((HTML / page).as_uri())
    wide = browser.execute_script(
        "return Array.from(document.querySelectorAll('article div.highlight pre'))"
        ".filter(p => p.scrollWidth > p.clientWidth + 1).length"
    )
    assert wide == 0, f"{page}: {wide} code blocks run off the page"


def _phone(browser, width: int):
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 2, "mobile": width < 600},
    )


@pytest.mark.parametrize("page", [p for p in PAGES if (ROOT / p.with_suffix(".ipynb")).exists()], ids=str)
def test_figures_are_legible_on_a_phone(browser, page):
    """Figures are drawn at 100 dpi with text of at least 12 pt (16.7 px at natural size): shrunk to a
    phone's column, the text must stay at 9 px or more, so no image may be shrunk below 0.54 of its
    natural width."""
    _phone(browser, 360)
    try:
        browser.get((HTML / page).as_uri())
        sizes = browser.execute_script(
            "return Array.from(document.querySelectorAll('article img')).filter(i => i.naturalWidth > 0)"
            ".map(i => [i.getAttribute('alt'), i.naturalWidth, i.getBoundingClientRect().width])"
        )
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    small = [(alt, natural, round(shown)) for alt, natural, shown in sizes if 12 * 100 / 72 * shown / natural < 9]
    assert not small, f"{page}: figures whose text renders below 9 px on a 360 px phone: {small}"


# 360 px: a phone; 1100 px: a desktop window whose content column is about 780 px wide.
WIDTHS = (360, 1100)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES, ids=str)
def test_nothing_scrolls_sideways(browser, page, width):
    """Every table, code block and line of text fits the column: the page is no wider than the screen
    and nothing inside the article scrolls sideways (on a phone, tables become one card per row)."""
    _phone(browser, width)
    try:
        browser.get((HTML / page).as_uri())
        wide = browser.execute_script("""
            const scrolls = Array.from(document.querySelectorAll('article *')).filter(e =>
              ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1);
            return {page: document.documentElement.scrollWidth,
                    scrolls: scrolls.map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 40))};
        """)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    # (a phone widens its layout viewport to fit the page: compare with the emulated width itself)
    assert wide["page"] <= width + 1, f"{page} at {width} px is {wide['page']} px wide"  # 1 px: rounding
    assert not wide["scrolls"], f"{page} at {width} px: these scroll sideways: {wide['scrolls']}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", sorted(INTERACTIVE), ids=str)
def test_interactive_figure_labels_do_not_collide(browser, page, width):
    """On a phone and on a desktop, no two upright labels of a Plotly figure overlap and none runs past
    the figure's edge (labels turned for a dense axis are only checked against the edge)."""
    _phone(browser, width)
    try:
        browser.get((HTML / page).as_uri())
        clashes = browser.execute_script("""
            const out = [];
            for (const gd of document.querySelectorAll('.js-plotly-plot')) {
              const edge = gd.getBoundingClientRect();
              const labels = Array.from(gd.querySelectorAll('text'))
                .filter(t => t.textContent.trim() && t.getBBox().width > 0)
                .map(t => [t.getBoundingClientRect(), t.textContent.trim(),
                           /rotate\\((?!0[,)])/.test(t.getAttribute('transform') || '')]);
              for (const [b, s] of labels)
                if (b.left < edge.left - 1 || b.right > edge.right + 1) out.push('past the edge: ' + s);
              const upright = labels.filter(l => !l[2]);
              for (let i = 0; i < upright.length; i++) for (let j = i + 1; j < upright.length; j++) {
                const [a, sa] = upright[i], [b, sb] = upright[j];
                const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (x > 1 && y > 1) out.push(sa + ' / ' + sb);
              }
            }
            return out;
        """)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert not clashes, f"{page} at {width} px: labels that collide: {clashes[:8]}"
