"""The kstance command. Every failure the user can cause or meet ends in one line on stderr and a non-zero exit,
never a traceback (flows/exits.py). The commands live by job: cli_run.py (the pipeline), cli_store.py (alerts,
report, feeds), cli_analyst.py (judgments, mute, unmute); what they print in present.py."""
from __future__ import annotations

from flows import cli_analyst, cli_run, cli_store  # noqa: F401 (each registers its commands on the app)
from flows.cli_app import app
from flows.exits import run_app


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
