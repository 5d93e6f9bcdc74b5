"""``mstack completion SHELL``: the shell completion script."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  eval "$(mstack completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(mstack completion zsh)"    (in ~/.zshrc)
    fish:  mstack completion fish > ~/.config/fish/completions/mstack.fish
    """
    ctx = click.get_current_context()
    root = ctx.find_root()
    cls = get_completion_class(shell)
    assert cls is not None  # the choice allows only shells Click knows
    script = cls(root.command, {}, "mstack", "_MSTACK_COMPLETE").source()
    click.echo(script)


COMMANDS = [completion]
