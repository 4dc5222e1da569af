"""What the kiosk does, without a window: each flow is plain Python over the link, HTTP and devices.

Screens (kiosk/ui/) call these from a worker thread and show what they return; tests drive the
same flows against a real broker and server without Kivy.
"""
