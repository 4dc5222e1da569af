"""`motcua forward`, `motcua hub` and `motcua province ...` (cluster configuration, a local cluster)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import click

from motcua.broker_url import parse_broker_url, parse_listen
from motcua.cli import config_option


def _stop_on_sigterm() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


@click.command()
@config_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data", show_default=True,
              help="The queue server's data directory (its database is read, never written).")
@click.option("--credentials", "credentials_path", type=click.Path(dir_okay=False), default=None,
              help="Credential file (username/password TOML). Default: [province] credentials, else "
                   "MOTCUA_PROVINCE_USERNAME / MOTCUA_PROVINCE_PASSWORD.")
@click.option("--log-level", default="INFO", show_default=True)
def forward(config_path: str | None, data_dir: str, credentials_path: str | None, log_level: str) -> None:
    """Send this office's event log and dossier status to the province's central cluster.

    Starts from where the hub stands, resumes after any outage, never writes the office database.

    Example: motcua forward --config /etc/motcua/office.toml --data /var/lib/motcua
    """
    from queue_server.cli import _existing_db, load_config
    from queue_server.province.credentials import CredentialError, load_credential
    from queue_server.province.forwarder import Forwarder
    from queue_server.province.outbox import OfficeLog, ensure_migrated
    from queue_server.province.topics import ProvinceTopics

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(config_path)
    link = config.province
    if not link.brokers:
        raise click.ClickException("[province] brokers is empty in the office configuration: nowhere to forward to")
    try:
        credential = load_credential(credentials_path or link.credentials, "PROVINCE")
        brokers = [parse_broker_url(b) for b in link.brokers]
    except (CredentialError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    path = _existing_db(data_dir)
    if not ensure_migrated(path):
        click.echo("the office database is read-only here: forwarding events only, no dossier status", err=True)
    reader = OfficeLog(path, config)
    forwarder = Forwarder(reader, config.id, config.name, brokers, credential, ProvinceTopics(link.topic_root))
    click.echo(f"motcua forward: office {config.id} -> {', '.join(link.brokers)} as {credential.username}", err=True)
    stop = _stop_on_sigterm()
    try:
        forwarder.run(stop)
    finally:
        reader.close()


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True, help="Hub configuration (TOML).")
@click.option("--http-listen", default=None, help="Override [hub] http_listen.")
@click.option("--no-http", is_flag=True, help="Only consume and store (a second hub process for the same database).")
@click.option("--log-level", default="INFO", show_default=True)
def hub(config_path: str, http_listen: str | None, no_http: bool, log_level: str) -> None:
    """Consume every office's events from the central cluster into PostgreSQL; serve the big screen.

    Example: motcua hub --config /etc/motcua/hub.toml
    """
    from queue_server.province.credentials import CredentialError, load_credential
    from queue_server.province.hub import Hub
    from queue_server.province.hubconfig import HubConfigError, load

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load(config_path)
        credential = load_credential(config.credentials, "HUB")
    except (HubConfigError, CredentialError) as exc:
        raise click.ClickException(str(exc)) from None
    listen = None if no_http else parse_listen(http_listen or config.http_listen, 8090)
    service = Hub(config, credential)
    try:
        service.start(listen)
    except Exception as exc:  # psycopg's errors, a taken port: one sentence, not a traceback
        raise click.ClickException(f"hub could not start: {exc}") from None
    where = f"http://{listen[0]}:{listen[1]}/" if listen else "no HTTP"
    click.echo(f"motcua hub {config.client_id}: {', '.join(config.brokers)} -> PostgreSQL; big screen: {where}", err=True)
    stop = _stop_on_sigterm()
    stop.wait()
    service.stop()


@click.group()
def province() -> None:
    """The province's central cluster: configurations, users, a local cluster to try."""


def _users(hub_user: str, hub_password_file: str | None, offices_file: str | None) -> Any:
    """Cluster users from files: the hub's password, and `office = "password"` lines for the offices."""
    import tomllib

    from queue_server.province.cluster import ClusterUser, hash_password

    users = []
    if hub_password_file:
        users.append(ClusterUser(hub_user, hash_password(Path(hub_password_file).read_text(encoding="utf-8").strip())))
    if offices_file:
        for office, password in tomllib.loads(Path(offices_file).read_text(encoding="utf-8")).items():
            users.append(ClusterUser(office, hash_password(str(password)), office=office))
    return users


@province.command("cluster-config")
@click.option("--host", "hosts", multiple=True, required=True, help="Address of a node (give three).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Directory for nats-1.conf, nats-2.conf ...")
@click.option("--hub-user", default="hub", show_default=True)
@click.option("--hub-password-file", type=click.Path(dir_okay=False, exists=True), required=True)
@click.option("--offices-file", type=click.Path(dir_okay=False, exists=True), required=True,
              help='TOML: one line per office, office-id = "its password" (only bcrypt hashes are written).')
@click.option("--topic-root", default="motcua-province", show_default=True)
def cluster_config(hosts: tuple[str, ...], out: str, hub_user: str, hub_password_file: str, offices_file: str,
                   topic_root: str) -> None:
    """Write the NATS configuration of each node of the central cluster.

    Example: motcua province cluster-config --host 10.1.0.11 --host 10.1.0.12 --host 10.1.0.13
    --hub-password-file hub.pw --offices-file offices.toml --out /tmp/nats
    """
    from queue_server.province.cluster import write_production
    from queue_server.province.topics import ProvinceTopics

    if len(hosts) != 3:
        click.echo("a JetStream cluster needs 3 nodes to survive the loss of one; continuing with "
                   f"{len(hosts)}", err=True)
    for path in write_production(Path(out), list(hosts), _users(hub_user, hub_password_file, offices_file),
                                 ProvinceTopics(topic_root)):
        click.echo(path)


@province.command("local-cluster")
@click.option("--dir", "workdir", type=click.Path(file_okay=False), required=True, help="Where the nodes keep their data.")
@click.option("--hub-user", default="hub", show_default=True)
@click.option("--hub-password-file", type=click.Path(dir_okay=False, exists=True), required=True)
@click.option("--offices-file", type=click.Path(dir_okay=False, exists=True), required=True)
def local_cluster(workdir: str, hub_user: str, hub_password_file: str, offices_file: str) -> None:
    """Run a 3-node cluster on this machine (loopback ports) until Ctrl+C, to try the province.

    Example: motcua province local-cluster --dir /tmp/province --hub-password-file hub.pw --offices-file offices.toml
    """
    from queue_server.province.cluster import LocalCluster

    cluster = LocalCluster(Path(workdir), _users(hub_user, hub_password_file, offices_file))
    cluster.start()
    click.echo("3 NATS nodes ready; MQTT: " + ", ".join(cluster.mqtt_urls))
    stop = _stop_on_sigterm()
    stop.wait()
    cluster.stop()
