"""The message catalogs: Vietnamese and English agree, and the feature packages keep no messages inline.

User-visible text lives in motcua/i18n/vi.json and en.json. The dossier and procedure packages
render it through motcua.i18n; a Vietnamese string literal in their code is a message that was
not moved to the catalogs, unless it is listed in ALLOWED below (matching data, not a message).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

from motcua import i18n
from queue_server.dossiers.model import STATUSES

ROOT = Path(__file__).resolve().parents[2]
FEATURE_DIRS = ("queue_server/dossiers", "queue_server/procedures", "kiosk/printing", "kiosk/scanning")

# Marks Vietnamese letters carry: grave, acute, tilde, hook above, dot below; circumflex, breve, horn.
VIETNAMESE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")

# Vietnamese literals that are data the code matches against, not messages; by file, each string exactly.
# Everything else Vietnamese must come from the catalogs. Docstrings, click `help=` texts and log
# messages are not checked (they are documentation, command-line help and logs, which stay in the code).
ALLOWED: dict[str, set[str]] = {
    # parse_bool: the words "có" (yes) and "không" (no) that source systems and spreadsheets send
    # for the `late` field; they are compared with the input, never shown.
    "queue_server/dossiers/model.py": {"có", "không"},
    # The folding table for search: Đ/đ are letters of their own in Unicode (NFD does not split them),
    # so they are mapped to "d" explicitly. Characters to fold, not text.
    "motcua/folding.py": {"đ", "Đ"},
}

# Calls that take a catalog key without its prefix: callee name -> (argument position, key prefix).
KEY_CALLS = {
    "reason": (0, "procedures."),       # procedures.model.reason
    "What": (0, "procedures.what."),    # procedures.model.What
    "warn": (0, "procedures.form."),    # procedures.importer._load_forms
    "_fail": (1, "dossier.item."),      # dossiers.model._fail(reason, key)
    "_error": (0, "dossier.code."),     # dossiers.codes._error(reason)
}
KEY = re.compile(r"(dossier|procedures)(\.[A-Za-z0-9_]+)+")
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})


def is_vietnamese(ch: str) -> bool:
    if ch in "đĐ" or ch in VIETNAMESE_MARKS:
        return True
    if ch.isascii():
        return False
    base, *marks = unicodedata.normalize("NFD", ch)
    return base.isascii() and base.isalpha() and bool(marks) and all(m in VIETNAMESE_MARKS for m in marks)


def _exempt_nodes(tree: ast.AST) -> set[int]:
    """ids of string constants that are docstrings, `help=` texts or log messages."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                exempt.add(id(first.value))
        if isinstance(node, ast.Call):
            parts = [kw.value for kw in node.keywords if kw.arg == "help"]
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in LOG_METHODS and isinstance(func.value, ast.Name)
                    and func.value.id in ("log", "logger", "logging")):
                parts += node.args
            for part in parts:
                exempt.update(id(sub) for sub in ast.walk(part))
    return exempt


def vietnamese_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant (f-string parts included) with a Vietnamese letter."""
    tree = ast.parse(source)
    exempt = _exempt_nodes(tree)
    return [
        (node.lineno, node.value) for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt
        and any(is_vietnamese(ch) for ch in node.value)
    ]


def feature_files() -> list[Path]:
    files = sorted(p for d in FEATURE_DIRS for p in (ROOT / d).rglob("*.py"))
    assert len(files) > 10  # the scan really found the packages
    return files


def test_vietnamese_and_english_have_the_same_keys_and_placeholders():
    vi, en = i18n.catalog("vi"), i18n.catalog("en")
    assert set(vi) == set(en), sorted(set(vi) ^ set(en))
    for key in vi:
        assert i18n.placeholders(vi[key]) == i18n.placeholders(en[key]), key
        assert vi[key].strip() and en[key].strip(), key


def test_every_entry_renders_in_both_languages():
    for lang in i18n.LANGUAGES:
        for key, template in i18n.catalog(lang).items():
            names = i18n.placeholders(template)
            rendered = i18n.text(key, lang, **dict.fromkeys(names, "X"))  # raises on a bad escape or format spec
            assert not any(f"{{{name}}}" in rendered for name in names), key


def test_the_detector_sees_vietnamese_in_any_string_but_not_in_docstrings_or_help():
    source = '''"""Mô-đun."""
import click
def f(x):
    """Hàm."""
    click.option("--a", help="Định dạng tệp")
    log.warning("không đọc được %s", x)
    raise ValueError(f"Trường {x} phải là chuỗi")
y = {"key": "Đã tiếp nhận", "plain": "Received", "nfd": "Tie\u0302\u0301p"}
'''
    found = {text for _, text in vietnamese_literals(source)}
    assert found == {"Trường ", " phải là chuỗi", "Đã tiếp nhận", "Tie\u0302\u0301p"}
    assert not is_vietnamese("…") and not is_vietnamese("A") and is_vietnamese("ư") and is_vietnamese("ạ")


@pytest.mark.parametrize("path", feature_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_feature_code_has_no_inline_vietnamese_messages(path: Path):
    relative = path.relative_to(ROOT).as_posix()
    allowed = ALLOWED.get(relative, set())
    found = vietnamese_literals(path.read_text(encoding="utf-8"))
    inline = [(line, text) for line, text in found if text not in allowed]
    assert not inline, f"{relative}: move these messages to motcua/i18n/vi.json and en.json: {inline}"
    stale = allowed - {text for _, text in found}
    assert not stale, f"{relative}: ALLOWED lists strings the file no longer has: {stale}"


def test_the_allow_list_names_existing_files():
    for relative in ALLOWED:
        assert (ROOT / relative).is_file(), relative


def test_catalog_keys_named_in_the_feature_code_exist():
    catalog = i18n.catalog("vi")
    # Namespaces such as "dossier.lookup" or "procedures.import"; other dotted names ("procedures.revision",
    # a settings key of procedures/db.py) are not catalog keys.
    namespaces = {".".join(key.split(".")[:2]) + "." for key in catalog if KEY.fullmatch(key)}
    missing = []
    for path in feature_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.fullmatch(node.value) \
                    and node.value.startswith(tuple(namespaces)):
                key = node.value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEY_CALLS
                  and len(node.args) > KEY_CALLS[node.func.id][0]
                  and isinstance(arg := node.args[KEY_CALLS[node.func.id][0]], ast.Constant) and isinstance(arg.value, str)):
                key = KEY_CALLS[node.func.id][1] + arg.value
            else:
                continue
            if key not in catalog:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {key}")
    assert not missing, missing


def test_every_dossier_status_has_a_wording():
    for status in STATUSES:
        for lang in i18n.LANGUAGES:
            assert f"dossier.status.{status}" in i18n.catalog(lang), (status, lang)
