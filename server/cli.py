"""`standing`: the command line. Each subcommand lives in the module that owns its job.

The group imports a subcommand only when it runs, so `standing classify` never pays for
Flask or imapclient, and errors of our own (StandingError) become one line and exit 1.
"""
from __future__ import annotations

import importlib
import sys

import click

from . import __version__
from .errors import StandingError

# name -> "module:attribute" of a click command
SUBCOMMANDS = {
    "classify": "server.cli_read:classify_command",
    "scan": "server.cli_store:scan_command",
    "list": "server.cli_store:list_command",
    "rebuild": "server.cli_store:rebuild_command",
    "serve": "server.cli_serve:serve_command",
    "pair": "server.cli_serve:pair_command",
    "account": "server.cli_accounts:account_group",
    "sync": "server.cli_accounts:sync_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx, name):
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="standing")
def cli():
    """Where You Stand: where you stand on every job application, from your own mailbox."""


def main(argv=None):
    try:
        return cli.main(args=argv, prog_name="standing", standalone_mode=True)
    except StandingError as err:
        click.echo(f"standing: {err}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
