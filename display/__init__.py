"""The waiting-room roles: LED boards and the voice caller (the TV pages are served by the server).

Imports only `motcua` (protocol, client, clock, catalogs): a display box has no server code.
"""
