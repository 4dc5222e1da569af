"""Rendering a staff page: the catalogs in the chosen language, the office, the signed-in person.

    render_page("counter/page.html", counter=...)   # in the template: t("key"), lang, office_name, staff

The language is `?lang=en` (Vietnamese otherwise) and follows links made with `page_url`.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from motcua import i18n
from queue_server.web.support import office


def page_language() -> str:
    lang = request.args.get("lang")
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def render_page(template: str, **context: Any) -> str:
    from queue_server.web.auth import current_staff

    lang = page_language()
    return render_template(
        template, t=lambda key, **kw: i18n.text(key, lang, **kw), lang=lang, office_name=office().config.name,
        staff=current_staff(), **context,
    )
