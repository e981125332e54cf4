"""The sign-up journey in a real headless browser, against ``syndicator serve`` as a process.

The site is published with ``base_url`` on the server's own local address, so every
link (the form's action, the confirmation link in the mail) is the one a reader
would follow. Mail goes to the outbox folder; ``syndicator deliver`` then runs as a
process. A screenshot of each page is kept in the test's ``tmp_path``.
"""

from __future__ import annotations

import os
import re
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from syndicator.service.app import Syndicator

from .conftest import CLI, SIGNING_KEY, Site, free_port, serve_command, write_config
from .test_serve_command import CHROMEDRIVER, CHROMIUM, browser_or_skip

READER = "reader@example.org"


def outbox(site: Site) -> list[EmailMessage]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted((site.root / "outbox").glob("*.eml"))
    ]


def to_reader(site: Site) -> list[EmailMessage]:
    return [m for m in outbox(site) if str(m["To"]) == READER]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_a_reader_signs_up_confirms_and_gets_the_next_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser_or_skip()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    port = free_port()
    base = f"http://127.0.0.1:{port}/syndicator/"
    root = tmp_path / "site"
    root.mkdir()
    config = write_config(root, base_url=base)
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", SIGNING_KEY)
    with Syndicator.from_config(config) as app:
        app.run()
    site = Site(root)
    before = len(outbox(site))

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--no-proxy-server")
    with serve_command(site, port=port):
        driver = webdriver.Chrome(
            options=options, service=Service(executable_path=str(CHROMEDRIVER))
        )
        try:
            driver.set_page_load_timeout(60)
            driver.get(f"{base}corruption.html")
            box = driver.find_element(By.CSS_SELECTOR, 'input[name="topics"][value="corruption"]')
            assert box.is_selected()  # the page's own topic is ticked
            driver.save_screenshot(str(tmp_path / "1-topic-page.png"))
            driver.find_element(By.NAME, "email").send_keys(READER)
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            assert driver.find_element(By.TAG_NAME, "h1").text == "Check your mail"
            driver.save_screenshot(str(tmp_path / "2-check-your-mail.png"))

            (mail,) = to_reader(site)
            assert len(outbox(site)) == before + 1  # the confirmation, nothing else
            (link,) = re.findall(rf"{re.escape(base)}signup/confirm\?token=\S+", text_of(mail))
            driver.get(link)
            assert driver.find_element(By.TAG_NAME, "h1").text == "Confirm your subscription"
            driver.save_screenshot(str(tmp_path / "3-confirm.png"))
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            assert driver.find_element(By.TAG_NAME, "h1").text == "You are subscribed"
            driver.save_screenshot(str(tmp_path / "4-subscribed.png"))
        finally:
            driver.quit()

    deliver = subprocess.run(
        [*CLI, "--config", str(config), "deliver"],
        cwd=root,
        env=os.environ | {"SYNDICATOR_SIGNING_KEY": SIGNING_KEY},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert deliver.returncode == 0, deliver.stderr
    confirmation, digest = to_reader(site)
    assert confirmation["Message-ID"] == mail["Message-ID"]
    assert "digest" in str(digest["Subject"])
    assert "Corruption" in text_of(digest)
    assert f"{base}unsubscribe?token=" in str(digest["List-Unsubscribe"])
    for name in ("1-topic-page", "2-check-your-mail", "3-confirm", "4-subscribed"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
