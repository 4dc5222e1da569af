"""The kiosk's own widgets: big buttons, the top bar, and an on-screen keyboard with plain letters.

Plain letters are enough to search: the server folds diacritics ("dang ky khai sinh" finds
"Đăng ký khai sinh"), so the keyboard has no Telex or accent keys to learn.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.screenmanager import NoTransition, Screen

from kiosk.ui import theme as T

LAYOUTS = {
    # Procedure names need no digits; four rows leave room for the results on an 800x480 screen.
    "letters": ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM", ["space"]],
    "code": ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM-."],
    "digits": ["123", "456", "789", ["backspace", "0", "clear"]],
}
# Extra keys at the end of rows of the letter layouts: delete one, clear all.
ROW_TAIL = {"letters": {1: "backspace", 2: "clear"}, "code": {2: "backspace", 3: "clear"}, "digits": {}}


class BigButton(Button):
    bg = ListProperty(T.BUTTON)
    fg = ListProperty(T.BUTTON_TEXT)
    key = StringProperty("")  # what the button stands for (a service code, a reason): tests and the bench find it by this
    feedback = BooleanProperty(True)  # light up while pressed; off where the answer itself comes at once

    # Without feedback the state never changes: even an identical redraw of the pressed look costs a
    # whole frame, which on a software-rendered screen delays the number by that much (bench/bench_kiosk.py).
    def _do_press(self) -> None:
        if self.feedback:
            super()._do_press()

    def _do_release(self, *args: object) -> None:
        if self.feedback:
            super()._do_release(*args)


class KeyButton(BigButton):
    pass


class TopBar(BoxLayout):
    title = StringProperty("")
    show_home = BooleanProperty(True)


class KioskScreen(Screen):
    """A screen of the kiosk; `refresh()` redraws what depends on state or language."""

    def refresh(self) -> None:
        pass

    def on_pre_enter(self, *args: object) -> None:
        self.refresh()


class InstantTransition(NoTransition):
    """The new screen replaces the old one before the next frame: Kivy's NoTransition still draws both
    for one frame, twice the pixels on a software-rendered screen (the frame that shows the number)."""

    def start(self, manager: object) -> None:
        super().start(manager)
        self._anim.cancel(self)
        self._on_complete()


class OnScreenKeyboard(BoxLayout):
    layout = OptionProperty("letters", options=list(LAYOUTS))
    __events__ = ("on_key",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(layout=lambda *_: self.build())
        App.get_running_app().bind(lang=lambda *_: self.build())
        self.build()

    def build(self) -> None:
        app = App.get_running_app()
        self.clear_widgets()
        for index, row in enumerate(LAYOUTS[self.layout]):
            keys = list(row)
            if index in ROW_TAIL[self.layout]:
                keys.append(ROW_TAIL[self.layout][index])
            if not keys:
                continue
            line = BoxLayout(spacing=self.spacing)
            for key in keys:
                label = app.tr(f"kiosk.key.{key}") if len(key) > 1 else key
                button = KeyButton(text=label, key=key)
                if len(key) > 1:
                    button.size_hint_x = 6 if key == "space" else 2
                    button.bg = T.BUTTON
                button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
                line.add_widget(button)
            self.add_widget(line)

    def on_key(self, key: str) -> None:
        pass


def apply_key(text: str, key: str, max_chars: int = 60, lower: bool = True) -> str:
    """The text after one key of the on-screen keyboard."""
    if key == "backspace":
        return text[:-1]
    if key == "clear":
        return ""
    if key == "space":
        return text + " " if text and not text.endswith(" ") and len(text) < max_chars else text
    if len(text) >= max_chars:
        return text
    return text + (key.lower() if lower else key)
