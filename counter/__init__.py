"""The counter role: the hardware keypad and the rating box (gpiozero).

Imports only `motcua` (protocol, client, clock, catalogs): a counter box has no server code.
"""
