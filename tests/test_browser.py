"""Swagger UI in headless Chromium, as a person would use it: find the operations, try one.

Selenium drives Debian's `chromium` through its `chromium-driver`, which Debian builds from the
same source at the same version, so the pair always fits; nothing is downloaded at run time.
`.ci/run` installs both; elsewhere the test is skipped when they are missing, and fails on CI.
Screenshots land in the git-ignored `artifacts/`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import ROOT, serving

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CODESTAND_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CODESTAND_CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
ARTIFACTS = ROOT / "artifacts"
WAIT = 20  # seconds: a cold Chromium on a busy two-core machine
# The machine has no network: without these, Chromium keeps trying to reach Google's services.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    if missing:
        message = f"needs {' and '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    # A driver path of our own keeps Selenium Manager, which would go online, out of it.
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving("--quiet") as url:
        yield url


def wait(driver: WebDriver):
    return WebDriverWait(driver, WAIT)


def operations(driver: WebDriver) -> set[str]:
    blocks = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    return {
        f"{block.find_element(By.CSS_SELECTOR, '.opblock-summary-method').text} "
        f"{block.find_element(By.CSS_SELECTOR, '.opblock-summary-path').get_attribute('data-path')}"
        for block in blocks
    }


def operation(driver: WebDriver, method: str, path: str) -> WebElement:
    selector = f".opblock-{method.lower()} .opblock-summary-path[data-path='{path}']"
    summary_path = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)))
    return summary_path.find_element(By.XPATH, "./ancestor::div[contains(@class, 'opblock ')]")


def try_it_out(driver: WebDriver, method: str, path: str) -> tuple[str, str, str]:
    """Open an operation, press "Try it out" and "Execute"; the status, body and URL shown."""
    block = operation(driver, method, path)
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait(driver).until(lambda _: block.find_element(By.CSS_SELECTOR, ".try-out__btn")).click()
    wait(driver).until(lambda _: block.find_element(By.CSS_SELECTOR, ".btn.execute")).click()
    status = wait(driver).until(
        lambda _: block.find_element(By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status")
    )
    body = block.find_element(By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_description pre").text
    url = block.find_element(By.CSS_SELECTOR, ".request-url pre").text
    driver.execute_script("arguments[0].scrollIntoView()", block)
    return status.text, body, url


def authorize(driver: WebDriver, scheme: str, value: str) -> None:
    """Fill a bearer scheme in Swagger UI's Authorize dialog, as a person would."""
    driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .btn.authorize").click()
    container = wait(driver).until(
        lambda d: next(c for c in d.find_elements(By.CSS_SELECTOR, ".auth-container") if scheme in c.text)
    )
    container.find_element(By.CSS_SELECTOR, "input").send_keys(value)
    container.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn.authorize").click()
    driver.find_element(By.CSS_SELECTOR, ".btn-done").click()


def screenshot(driver: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / name))


def test_swagger_ui_lists_both_vendors_and_tries_an_operation(browser, base_url):
    browser.get(f"{base_url}/")
    screenshot(browser, "landing-page.png")
    browser.find_element(By.LINK_TEXT, "Swagger UI").click()
    assert browser.current_url == f"{base_url}/ui/"
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path")))

    listed = operations(browser)
    assert {"POST /incoming/v2/redemptionCodes", "GET /incoming/v2/ping", "POST /oauth/access_token", "POST /v2/promotions/{id}/codes"} <= listed
    tags = {tag.text for tag in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag > a span, .opblock-tag > a")}
    assert {"Thought Industries", "Moltin"} <= tags
    screenshot(browser, "swagger-ui-vendors.png")

    authorize(browser, "tiApiKey", "browser-test-key")
    status, body, url = try_it_out(browser, "GET", "/incoming/v2/ping")
    assert (status, url) == ("200", f"{base_url}/incoming/v2/ping")
    assert '"valid": true' in body
    screenshot(browser, "swagger-ui-try-it-out.png")


def test_swagger_ui_switches_to_the_control_plane(browser, base_url):
    browser.get(f"{base_url}/ui/")
    # The picker stays disabled while the first spec loads.
    picker = wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".topbar select")))
    Select(picker).select_by_visible_text("codestand control plane")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path[data-path='/health']")))
    assert {"GET /health", "POST /reset", "PUT /clock"} <= operations(browser)

    status, body, url = try_it_out(browser, "GET", "/health")
    assert (status, url) == ("200", f"{base_url}/__codestand/health")
    assert '"status": "ok"' in body
    screenshot(browser, "swagger-ui-control-plane.png")
