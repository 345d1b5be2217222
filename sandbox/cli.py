"""`ledgerlink sandbox serve`: both emulators over generated or scenario data, until Ctrl-C.

The `export` lines go to stdout (so they can be captured), everything else to stderr. The
same lines are written to `<state dir>/env.sh` for `source`, beside `truth.json` (what a
perfect pipeline would conclude about the data) and `summary.json`.
"""

from __future__ import annotations

import gc
import os
import shlex
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Emulated Salesforce and QuickBooks Online APIs over seeded, messy data with a known ground truth.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form", param_hint="--as-of") from None


@app.command()
def serve(
    profile: Annotated[
        str, typer.Option(help="Generated data size: tiny (~30 companies), small (~500), medium (~10k), large (~100k).")
    ] = "small",
    seed: Annotated[int, typer.Option(help="Seed: the same profile, seed and --as-of give the same data.")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The 'today' of the data (YYYY-MM-DD); default: today.")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="Serve a scenario folder (salesforce/*.csv|json, qbo/*.json|csv, meta.json, truth.json) "
            "instead of generated data.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    time_scale: Annotated[
        float, typer.Option(help="Clock speed for token expiry and throttling windows; 60 = a minute lasts a second.")
    ] = 1.0,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    sf_port: Annotated[int, typer.Option(help="Salesforce API port (HTTPS); 0 = any free port.")] = 8443,
    qbo_port: Annotated[int, typer.Option(help="QBO API port (HTTPS); 0 = any free port.")] = 8444,
    oauth_port: Annotated[int, typer.Option(help="QBO OAuth port (HTTP); 0 = any free port.")] = 8445,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where certificates, env.sh, truth.json and summary.json go; default $LEDGERLINK_HOME/sandbox."),
    ] = None,
) -> None:
    """Serve the sandbox APIs and print the environment that points LedgerLink at them.

    Example: `ledgerlink sandbox serve --profile tiny --seed 7`, then in another terminal
    `source .ledgerlink/sandbox/env.sh` and run the pipeline.
    """
    from ledgerlink import paths
    from sandbox.generator import PROFILES, ScenarioError, generate, load_scenario, write_dataset
    from sandbox.server import Sandbox, SandboxSettings

    day = _parse_as_of(as_of)
    if time_scale <= 0:
        raise typer.BadParameter("must be greater than 0", param_hint="--time-scale")
    if scenario is None and profile not in PROFILES:
        raise typer.BadParameter(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}", param_hint="--profile")
    state = state_dir or paths.home() / "sandbox"
    started = time.monotonic()
    if scenario is not None:
        try:
            dataset = load_scenario(scenario)
        except ScenarioError as exc:
            _say(f"error: {exc}")
            raise typer.Exit(2) from None
        if day is not None:
            dataset.as_of = day
        source = f"scenario {scenario}"
    else:
        _say(f"Generating the '{profile}' data (seed {seed})...")
        dataset = generate(profile, seed=seed, as_of=day)
        source = f"profile {profile}, seed {seed}"
    truth_path = write_dataset(dataset, state)
    sf, qbo = dataset.salesforce, dataset.qbo
    _say(
        f"Data ({source}, as of {dataset.as_of}, {time.monotonic() - started:.1f}s): "
        f"{len(sf.get('Account', []))} accounts, {len(sf.get('Opportunity', []))} opportunities, "
        f"{len(qbo.get('Customer', []))} customers, {len(qbo.get('Invoice', []))} invoices. Truth: {truth_path}"
    )
    settings = SandboxSettings(time_scale=time_scale, seed=seed)
    try:
        sandbox = Sandbox(dataset, state, settings, host=host, ports=(sf_port, qbo_port, oauth_port))
    except OSError as exc:
        _say(f"error: cannot listen on {host} ports {sf_port}/{qbo_port}/{oauth_port}: {exc.strerror}; "
             "pick others with --sf-port/--qbo-port/--oauth-port (0 = any free port)")
        raise typer.Exit(2) from None
    stop = threading.Event()
    # Handlers for both: a shell starts background jobs with SIGINT ignored, and Python then
    # would not turn it into KeyboardInterrupt.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    records = sum(map(len, sf.values())) + sum(map(len, qbo.values()))
    try:
        sandbox.start()
        # Everything loaded so far lives until exit: keep the cyclic collector from re-scanning
        # millions of records while serving (latency spikes on the large profile).
        gc.freeze()
        exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in sandbox.env.items())
        env_file = Path(state) / "env.sh"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when an older, wider-open env.sh was there
        with os.fdopen(fd, "w") as handle:
            handle.write(exports)
        _say(f"Salesforce {sandbox.sf_url}  QBO {sandbox.qbo_url}  QBO OAuth {sandbox.oauth_url}")
        _say(f"Point LedgerLink at it with the lines below, or: source {env_file}")
        sys.stdout.write(exports)
        sys.stdout.flush()
        _say("Serving; press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        _say("Stopping the sandbox...")
        # A client that keeps a TLS keep-alive connection open makes a graceful stop wait up to
        # ten seconds per service; the service threads are daemons, so exiting ends them anyway.
        stopper = threading.Thread(target=sandbox.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=3)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if records > 200_000:
        # Freeing a few GB of records one by one takes the better part of a minute; the
        # servers are stopped and the files written, so leave at once.
        _say("Stopped.")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    _say("Stopped.")


@app.command()
def generate_truth(
    out: Annotated[Path, typer.Argument(help="Folder for truth.json and summary.json.")],
    profile: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 0,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The 'today' of the data (YYYY-MM-DD).")] = None,
) -> None:
    """Write the ground truth of a generated dataset without serving it."""
    from sandbox.generator import PROFILES, generate, write_dataset

    if profile not in PROFILES:
        raise typer.BadParameter(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}", param_hint="--profile")
    path = write_dataset(generate(profile, seed=seed, as_of=_parse_as_of(as_of)), out)
    _say(f"Wrote {path}")


if __name__ == "__main__":
    app()
