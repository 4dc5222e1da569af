"""The contract page is generated from protocol.py; it must match, and cover every op and code."""

from __future__ import annotations

from motcua import protocol as p
from motcua.contract_doc import render
from tests.conftest import ROOT


def test_the_contract_page_matches_protocol_py():
    page = (ROOT / "docs" / "mqtt-contract.md").read_text(encoding="utf-8")
    generated = page.split("<!-- generated:start -->\n", 1)[1].split("<!-- generated:end -->", 1)[0]
    assert generated == render(), "docs/mqtt-contract.md is stale: regenerate it with `motcua contract`"


def test_every_op_and_error_code_is_documented():
    text = render()
    for op in p.OPS:
        assert f"| `{op}` |" in text
    for code in p.ERROR_CODES:
        assert f"| `{code}` |" in text


def test_every_cli_command_has_help():
    from motcua.cli import add_role_commands, cli

    add_role_commands(cli)
    assert {"server", "demo", "procedures", "dossier", "ticket"} <= set(cli.commands)
    for name, command in cli.commands.items():
        assert command.help and command.help.strip(), f"motcua {name} has no --help text"
