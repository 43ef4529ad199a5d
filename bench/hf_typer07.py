"""Run huggingface_hub's `hf` CLI (huggingface_hub.cli.hf:main, what the `hf` script calls)
with Debian 12's typer 0.7 (python3-typer), for bench/cache_ls.

    PYTHONPATH=/tmp/hfh/src /usr/bin/python3 bench/hf_typer07.py cache ls --cache-dir DIR

huggingface_hub 1.3.7 declares its options as `Annotated[T, typer.Option(help=...)]`,
which needs typer >= 0.9: typer 0.7's Option() and Argument() take the default as a
required first argument, so importing the CLI fails (TypeError: Argument() missing 1
required positional argument: 'default'). The two wrappers below only supply that
argument; typer 0.7 then builds every option from the parameter names and defaults
(`--cache-dir`, `--revisions`, `--format`, ...: the long forms work, `-f`/`-q` do not),
and the command body that runs is huggingface_hub's own `ls`, unchanged.

rich is blocked: typer 0.7 imports it at start-up whenever it is installed, the
typer-slim that huggingface_hub depends on does not, and a listing never needs it.
That only makes `hf` faster here, never slower.

`check_cli_update` runs as in the real script: it asks importlib.metadata for the
installed version, finds none (sources on PYTHONPATH, no dist-info) and returns,
so no network request is made.
"""
import sys

sys.modules["rich"] = None  # "import rich" raises ImportError: typer 0.7 goes without it

import typer  # noqa: E402

_Argument, _Option = typer.Argument, typer.Option


def _with_default(default, args):
    # typer >= 0.9 in Annotated: no default, and the first positionals are flag names
    if not args or (isinstance(args[0], str) and args[0].startswith("-")):
        return (default,) + args
    return args


def Argument(*args, **kwargs):
    return _Argument(*_with_default(..., args), **kwargs)


def Option(*args, **kwargs):
    return _Option(*_with_default(None, args), **kwargs)


typer.Argument, typer.Option = Argument, Option

from huggingface_hub.cli import hf  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "hf"
    sys.exit(hf.main())
