"""The explorer and the report in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium)."""

from __future__ import annotations

import itertools
import re
import shutil
import time

import pytest

from vaekit.explore import create_app
from vaekit.explore.timing import served
from vaekit.report import ReportOptions, write_report
from vaekit.run import load_run

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)),
        reason="needs Debian's headless Chromium: apt-get install chromium chromium-driver",
    ),
]


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console, read by console_errors
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def explorer_url(runs):
    with served(create_app(load_run(runs("vae")))) as port:
        yield f"http://127.0.0.1:{port}"


def wait(driver, condition, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def console_errors(driver) -> list[str]:
    """The console's errors since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def only_local_requests(driver, origin: str) -> list[str]:
    """The URLs of every resource the page loaded that came from anywhere but `origin` or data: URIs."""
    names = driver.execute_script("return performance.getEntries().map(e => e.name)")
    return [n for n in names if re.match(r"https?://", n) and not n.startswith(origin)]


def test_slider_redraws_the_image_and_a_map_click_loads_a_point(browser, explorer_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(explorer_url + "/")
    wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    decoded = browser.find_element(By.ID, "decoded")
    wait(browser, lambda d: decoded.get_attribute("src").startswith("data:image/png"))
    before = decoded.get_attribute("src")
    sliders = browser.find_elements(By.CSS_SELECTOR, "#sliders input[type=range]")
    assert len(sliders) == 4
    first = sliders[0]  # the highest-KL dimension
    first.send_keys(*[Keys.ARROW_RIGHT] * 150)  # +1.5 in steps of 0.01, one input event each
    wait(browser, lambda d: decoded.get_attribute("src") != before)
    assert float(first.get_attribute("value")) == pytest.approx(1.5)
    assert "decoded in" in browser.find_element(By.ID, "decode-ms").text

    canvas = browser.find_element(By.ID, "map")
    wait(browser, lambda d: d.execute_script("return state.map !== null"))
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element_with_offset(canvas, 10, -15).click().perform()
    wait(browser, lambda d: d.find_element(By.ID, "clicked").text.startswith("test image"))
    index = int(browser.find_element(By.ID, "clicked").text.split()[2])
    z = browser.execute_script("return state.z")
    values = {int(s.get_attribute("data-dim")): float(s.get_attribute("value")) for s in sliders}
    assert all(abs(values[d] - z[d]) < 0.02 for d in values)  # the sliders show the clicked point's z
    assert 0 <= index < browser.execute_script("return state.info.num_test")
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None  # no error shown
    assert only_local_requests(browser, explorer_url) == []


PLACEHOLDERS = {"clicked": "click a point on the map", "interp-empty": "press interpolate", "own-empty": "press encode"}


def visible_images(driver) -> list[dict]:
    """Every <img> the page lays out: its id, natural and shown sizes, and how it is scaled."""
    return driver.execute_script(
        """return [...document.images].filter((i) => i.offsetParent !== null).map((i) => {
            const r = i.getBoundingClientRect();
            return {id: i.id, alt: i.alt, nw: i.naturalWidth, nh: i.naturalHeight, w: r.width, h: r.height,
                    rendering: getComputedStyle(i).imageRendering};
        })"""
    )


def test_first_load_shows_no_broken_image_but_says_what_to_do(browser, explorer_url):
    from selenium.webdriver.common.by import By

    browser.get(explorer_url + "/")
    wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    wait(browser, lambda d: d.find_element(By.ID, "decoded").get_attribute("src").startswith("data:image/png"))
    wait(browser, lambda d: d.execute_script("return state.mapTicks !== null"))
    shown = visible_images(browser)
    assert [i["alt"] for i in shown if not (i["nw"] and i["nh"])] == []  # no broken-image icon
    assert [i["id"] for i in shown] == ["decoded"]  # the one picture there is before any click
    for element, words in PLACEHOLDERS.items():
        placeholder = browser.find_element(By.ID, element)
        assert placeholder.is_displayed() and words in placeholder.text.lower()
    assert browser.execute_script("return fetch('/favicon.ico').then((r) => r.status)") == 200


def test_pictures_keep_their_aspect_ratio_and_the_numbers_are_rounded(browser, explorer_url):
    """A 32-step interpolation and 8 posterior draws, wider than their panels, are shown whole and in proportion."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(explorer_url + "/")
    wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === '1' && state.map !== null"))
    ActionChains(browser).move_to_element_with_offset(browser.find_element(By.ID, "map"), 10, -15).click().perform()
    wait(browser, lambda d: d.find_element(By.ID, "clicked").text.startswith("test image"))
    steps = browser.find_element(By.ID, "interp-steps")
    steps.clear()
    steps.send_keys("32")
    browser.find_element(By.ID, "interp-go").click()
    draw = browser.find_element(By.ID, "draw")
    ActionChains(browser).move_to_element(draw).click_and_hold().move_by_offset(20, 40).release().perform()
    browser.find_element(By.ID, "own-go").click()
    wait(browser, lambda d: len([i for i in visible_images(d) if i["nw"]]) == 7)
    time.sleep(0.2)  # the page sizes a picture when it has loaded
    for image in visible_images(browser):
        assert image["nw"] and image["nh"], image
        assert abs(image["h"] - image["w"] * image["nh"] / image["nw"]) <= 1, image  # the proportions kept
        expected = "pixelated" if image["h"] > image["nh"] else "auto"  # enlarged: crisp squares
        assert image["rendering"] == expected, image
    strip = next(i for i in visible_images(browser) if i["id"] == "interp-images")
    assert strip["nw"] == 32 * 9 + 1 and strip["w"] <= browser.find_element(By.ID, "interp-panel").size["width"]

    values = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#sliders output")]
    assert len(values) == 4 and all(re.fullmatch(r"[+-]\d+\.\d\d", v) for v in values), values
    raw = [s.get_attribute("value") for s in browser.find_elements(By.CSS_SELECTOR, "#sliders input")]
    assert all(re.fullmatch(r"-?\d+(\.\d{1,2})?", v) for v in raw), raw  # the steps land on hundredths
    ticks = browser.execute_script("return state.mapTicks")
    for axis in ("u", "v"):
        assert len(ticks[axis]) >= 3 and all(re.fullmatch(r"-?\d+(\.\d+)?", t) for t in ticks[axis]), ticks
        numbers = [float(t) for t in ticks[axis]]
        gaps = {round(b - a, 9) for a, b in itertools.pairwise(numbers)}
        assert len(gaps) == 1 and gaps.pop() > 0  # evenly spaced, increasing
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None


def test_vq_code_edit_and_masked_resample(browser, runs):
    from selenium.webdriver.common.by import By

    with served(create_app(load_run(runs("vqvae")))) as port:
        browser.get(f"http://127.0.0.1:{port}/")
        wait(browser, lambda d: d.find_elements(By.ID, "code-1-1"))
        decoded = browser.find_element(By.ID, "codes-decoded")
        wait(browser, lambda d: decoded.get_attribute("src").startswith("data:image/png"))
        before = decoded.get_attribute("src")
        cell = browser.find_element(By.ID, "code-0-0")
        new = (int(cell.text) + 1) % 6
        value = browser.find_element(By.ID, "code-value")
        value.clear()
        value.send_keys(str(new))
        cell.click()
        wait(browser, lambda d: decoded.get_attribute("src") != before)
        assert browser.find_element(By.ID, "code-0-0").text == str(new)

        browser.find_element(By.CSS_SELECTOR, "input[name=code-tool][value=mask]").click()
        browser.find_element(By.ID, "code-1-1").click()
        assert "masked" in browser.find_element(By.ID, "code-1-1").get_attribute("class")
        kept = [browser.find_element(By.ID, f"code-{i}-{j}").text for i, j in ((0, 0), (0, 1), (1, 0))]
        browser.find_element(By.ID, "codes-resample").click()
        wait(browser, lambda d: d.execute_script("return state.resamples") == 1)
        assert [browser.find_element(By.ID, f"code-{i}-{j}").text for i, j in ((0, 0), (0, 1), (1, 0))] == kept
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None


def test_report_renders_with_no_network_request(browser, runs, tmp_path):
    from selenium.webdriver.common.by import By

    out = write_report(load_run(runs("vae")), tmp_path / "report.html", ReportOptions(quick_examples=50))
    browser.get(out.as_uri())
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) >= 6
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)  # all decoded
    names = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [n for n in names if not n.startswith("data:")]  # nothing fetched from anywhere
    assert "Latent traversals" in browser.find_element(By.TAG_NAME, "body").text


def test_a_table_run_shows_rows_that_follow_the_sliders_and_the_map(browser, runs):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with served(create_app(load_run(runs("table")))) as port:
        console_errors(browser)  # what earlier pages left
        browser.get(f"http://127.0.0.1:{port}/")
        wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === '1' && state.map !== null"))
        row = browser.find_element(By.ID, "decoded-row")
        wait(browser, lambda d: len(row.find_elements(By.TAG_NAME, "tr")) == 5)  # one line per column
        names = [th.text for th in row.find_elements(By.CSS_SELECTOR, "tr > th")]
        assert names == ["height", "weight", "visits", "smoker", "city"]
        assert len(row.find_elements(By.CSS_SELECTOR, ".track .marker")) == 3  # real and count columns
        assert len(row.find_elements(By.CSS_SELECTOR, ".category")) == 2 + 3  # each category's probability
        assert browser.find_element(By.ID, "own-panel").is_displayed() is False  # no drawing for a table

        before = row.text
        sliders = browser.find_elements(By.CSS_SELECTOR, "#sliders input[type=range]")
        assert len(sliders) == 2
        sliders[0].send_keys(*[Keys.ARROW_RIGHT] * 250)  # +2.5
        wait(browser, lambda d: row.text != before)

        ActionChains(browser).move_to_element_with_offset(browser.find_element(By.ID, "map"), 10, -15).click().perform()
        wait(browser, lambda d: d.find_element(By.ID, "clicked").text.startswith("test row"))
        assert re.search(r"\(group [abc]\)$", browser.find_element(By.ID, "clicked").text)  # the label by name
        clicked = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#clicked-rows tr > th:first-child")]
        assert clicked == ["", "test row", "reconstruction"]
        assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#legend span")] == ["a", "b", "c"]

        shown = visible_images(browser)
        assert [i["alt"] for i in shown if not (i["nw"] and i["nh"])] == []  # no broken image
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
        assert console_errors(browser) == []
        assert only_local_requests(browser, f"http://127.0.0.1:{port}") == []


def test_a_table_report_renders_every_figure(browser, runs, tmp_path):
    from selenium.webdriver.common.by import By

    out = write_report(load_run(runs("table")), tmp_path / "report.html", ReportOptions(quick_examples=30))
    console_errors(browser)
    browser.get(out.as_uri())
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 1 + 5 + 1 + 1  # curves, a marginal per column, correlations, KL per dimension
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    marginals = browser.find_elements(By.CSS_SELECTOR, ".marginals img")
    widths = {round(m.size["width"]) for m in marginals}
    assert len(marginals) == 5 and min(widths) >= 250  # laid out in a grid, none squashed
    assert console_errors(browser) == []


def test_a_text_run_decodes_sentences_and_encodes_a_typed_one(browser, runs):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    with served(create_app(load_run(runs("text")))) as port:
        console_errors(browser)  # what earlier pages left
        browser.get(f"http://127.0.0.1:{port}/")
        wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === '1' && state.map !== null"))
        sentence = browser.find_element(By.ID, "decoded-text")
        wait(browser, lambda d: sentence.is_displayed() and sentence.text != "")
        assert "log p(x|z)" in sentence.get_attribute("title")
        for hidden in ("own-panel", "codes-panel", "decoded", "interp-a-label", "beam-width-label"):
            assert browser.find_element(By.ID, hidden).is_displayed() is False

        Select(browser.find_element(By.ID, "decoding")).select_by_value("beam")  # decodes again, by beam search
        wait(browser, lambda d: d.find_element(By.ID, "beam-width-label").is_displayed())
        wait(browser, lambda d: d.execute_script("return !decoding"))
        sliders = browser.find_elements(By.CSS_SELECTOR, "#sliders input[type=range]")
        assert len(sliders) == 3
        sliders[0].send_keys(*[Keys.ARROW_RIGHT] * 50)
        wait(browser, lambda d: d.find_element(By.ID, "decode-ms").text.startswith("decoded"))

        typed = browser.find_element(By.ID, "own-text")
        typed.send_keys("the cat zorblax <b>")
        browser.find_element(By.ID, "text-go").click()
        wait(browser, lambda d: d.find_element(By.ID, "text-result").is_displayed())
        assert browser.find_element(By.ID, "text-seen").text == "the cat <unk> < b >"  # shown as text, not markup
        assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#text-seen .unk")] == ["<unk>"]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#text-neighbours li")) == 5

        wait(browser, lambda d: d.find_element(By.ID, "interp-text-a").get_attribute("value") != "")
        browser.find_element(By.ID, "interp-go").click()
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#interp-texts li")) == 8)
        assert browser.find_elements(By.CSS_SELECTOR, ".molecule") == []  # words are not drawn as molecules
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
        assert console_errors(browser) == []
        assert only_local_requests(browser, f"http://127.0.0.1:{port}") == []


def drawn_molecules(driver, selector: str) -> list[dict]:
    """The molecule drawings (<img>) and undrawn boxes under `selector`: each one's kind, source and natural width."""
    return driver.execute_script(
        """return [...document.querySelectorAll(arguments[0] + ' .molecule')].map((e) => ({img: e.tagName === 'IMG',
            src: e.getAttribute('src') || '', nw: e.naturalWidth || 0, text: e.textContent}))""",
        selector,
    )


def test_a_smiles_run_draws_the_decoded_typed_and_interpolated_molecules(browser, runs):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with served(create_app(load_run(runs("smiles")))) as port:
        console_errors(browser)  # what earlier pages left
        browser.get(f"http://127.0.0.1:{port}/")
        wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === '1' && state.map !== null"))
        assert browser.find_element(By.CSS_SELECTOR, "#text-panel h2").text == "Your molecule"
        assert "SMILES strings of up to" in browser.find_element(By.ID, "run-info").text
        wait(browser, lambda d: d.execute_script("return !decoding"))
        browser.execute_script("document.getElementById('decoded-molecule').replaceChildren()")  # the first decoding's
        sliders = browser.find_elements(By.CSS_SELECTOR, "#sliders input[type=range]")
        sliders[0].send_keys(*[Keys.ARROW_RIGHT] * 60)
        wait(browser, lambda d: drawn_molecules(d, "#decoded-molecule"))  # drawn again by the slider's decoding
        wait(browser, lambda d: d.execute_script("return !decoding"))
        smiles = browser.find_element(By.ID, "decoded-text").text
        (drawing,) = drawn_molecules(browser, "#decoded-molecule")
        assert drawing["img"] and drawing["src"].startswith("data:image/svg+xml;base64,")  # CCC: the tiny run's
        wait(browser, lambda d: drawn_molecules(d, "#decoded-molecule")[0]["nw"] > 0)  # the SVG loads and renders
        assert " " not in smiles and "invalid" not in browser.find_element(By.ID, "decoded-text").get_attribute("class")

        typed = browser.find_element(By.ID, "own-text")
        typed.send_keys("C1CC")  # an unclosed ring: shown as text, marked invalid, not drawn
        browser.find_element(By.ID, "text-go").click()
        wait(browser, lambda d: d.find_element(By.ID, "text-result").is_displayed())
        assert browser.find_element(By.ID, "text-seen").text == "C1CC"
        assert "invalid" in browser.find_element(By.ID, "text-seen").get_attribute("class")
        pair = drawn_molecules(browser, "#text-molecules")
        assert [m["img"] for m in pair] == [False, True] and "not a valid molecule" in pair[0]["text"]
        assert len(drawn_molecules(browser, "#text-neighbour-molecules")) == 5
        assert browser.find_element(By.ID, "text-neighbours").is_displayed() is False  # drawn instead of listed

        for box, value in (("interp-text-a", "CCO"), ("interp-text-b", "C1CC")):
            browser.find_element(By.ID, box).clear()
            browser.find_element(By.ID, box).send_keys(value)
        steps = browser.find_element(By.ID, "interp-steps")
        steps.clear()
        steps.send_keys("5")
        browser.find_element(By.ID, "interp-go").click()
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#interp-molecules figure")) == 5)
        captions = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#interp-molecules figcaption .name")]
        assert captions == ["t = 0.00", "t = 0.25", "t = 0.50", "t = 0.75", "t = 1.00"]
        ends = drawn_molecules(browser, "#interp-end-molecules")
        assert [m["img"] for m in ends] == [True, False]  # CCO drawn, C1CC marked invalid
        assert browser.find_element(By.CSS_SELECTOR, "#interp-end-molecules figure.invalid .badge").text == "invalid"
        wait(browser, lambda d: all(m["nw"] > 0 for m in drawn_molecules(d, "main") if m["img"]))  # all rendered
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
        assert console_errors(browser) == []  # no CSP refusal of the data: URIs, no script error
        assert only_local_requests(browser, f"http://127.0.0.1:{port}") == []


def test_a_text_report_renders_with_no_network_request(browser, runs, tmp_path):
    from selenium.webdriver.common.by import By

    out = write_report(load_run(runs("text")), tmp_path / "report.html", ReportOptions(quick_examples=20))
    console_errors(browser)
    browser.get(out.as_uri())
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 3  # training curves, the KL / MI / AU curves, KL per dimension
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "a < b > dog & a bird" in text and "Homotopies" in text  # the sentences as text
    assert console_errors(browser) == []
