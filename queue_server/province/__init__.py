"""Province scale: the forwarder (office side), the central cluster's configuration, the hub.

Office side (needs only the server extra): `outbox` reads the office database read-only,
`export` decides what may leave, `forwarder` sends it. Central side (extra `province`:
PostgreSQL through psycopg): `hub`, `hubdb`, `board`, `web`. `cluster` writes NATS
configurations and starts a local 3-node cluster for trying and testing. See docs/province.md.
"""
