"""The touchscreen kiosk role: take a number, print it, look up procedures and dossiers, rate.

Imports only `motcua` (protocol, client, clock, catalogs): a kiosk box has no server code.
"""
