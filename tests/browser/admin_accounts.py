"""Staff accounts for the admin page tests (made through the worker, as the staff page does), and signing in."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.staff_support import PASSWORD, add_staff


def make_account(server: Any, login: str, role: str) -> None:
    add_staff(server, login, role, name={"administrator": "Trần Văn Quản", "manager": "Lê Thị Lãnh"}.get(role, login))


def sign_in(browser: Any, base: str, login: str, password: str = PASSWORD) -> None:
    browser.get(base + "/dang-nhap?next=/admin")
    browser.find_element(By.ID, "login").send_keys(login)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 15).until(lambda b: "/admin" in b.current_url and "dang-nhap" not in b.current_url)
