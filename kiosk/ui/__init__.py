"""The kiosk's screens (Kivy). Import `kiosk.ui.boot` first: Kivy reads its settings at import time."""
