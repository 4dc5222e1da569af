"""Staff accounts for the admin page tests, and signing in through the login form."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "mật-khẩu-thử-nghiệm-2026"


def make_account(server: Any, login: str, role: str) -> None:
    from queue_server.web.admin import standin_auth  # STAND-IN until the staff branch's accounts land

    standin_auth.STAFF[login] = (PASSWORD, role)


def sign_in(browser: Any, base: str, login: str, password: str = PASSWORD) -> None:
    browser.get(base + "/dang-nhap?next=/admin")
    browser.find_element(By.NAME, "login").send_keys(login)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    WebDriverWait(browser, 10).until(lambda b: "/admin" in b.current_url)
