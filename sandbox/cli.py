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

from sandbox.faults import FaultConfig
from sandbox.server import SandboxSettings

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


_SF_PANEL = "Salesforce emulation"
_QBO_PANEL = "QuickBooks Online emulation"
_FAULT_PANEL = "Fault injection (off by default; rates are shares of API requests, 0 to 1)"
_SETTING_DEFAULTS = SandboxSettings()
_FAULT_DEFAULTS = FaultConfig()
_SERVICE_NAMES = {"salesforce": "Salesforce", "qbo": "QBO"}


def _rate(service: str, what: str):
    return typer.Option(
        min=0.0, max=1.0, metavar="SHARE", rich_help_panel=_FAULT_PANEL,
        help=f"{_SERVICE_NAMES[service]}: share of API requests {what}.",
    )


def _slow_seconds(service: str):
    prefix = "sf" if service == "salesforce" else "qbo"
    return typer.Option(
        min=0.0, metavar="SECONDS", rich_help_panel=_FAULT_PANEL,
        help=f"{_SERVICE_NAMES[service]}: delay of a request picked by --{prefix}-slow-rate (real seconds).",
    )


def _fault_config(
    service: str, *, error_rate: float, slow_rate: float, slow_seconds: float, drop_rate: float,
    expire_after: int | None, seed: int, include_oauth: bool = False,
) -> FaultConfig | None:
    """The service's FaultConfig, or None when no fault is asked for (then no injector is installed)."""
    prefix = "sf" if service == "salesforce" else "qbo"
    if slow_seconds != _FAULT_DEFAULTS.slow_seconds and not slow_rate:
        raise typer.BadParameter(
            f"has no effect without --{prefix}-slow-rate; add e.g. --{prefix}-slow-rate 0.1",
            param_hint=f"--{prefix}-slow-seconds",
        )
    if not (error_rate or slow_rate or drop_rate or expire_after is not None):
        if include_oauth:
            raise typer.BadParameter(
                "has no effect without a QBO fault; add e.g. --qbo-error-rate 0.05", param_hint="--qbo-faults-on-oauth"
            )
        return None
    return FaultConfig(
        error_rate=error_rate, slow_rate=slow_rate, slow_seconds=slow_seconds, drop_rate=drop_rate,
        expire_token_after=expire_after, seed=seed, include_oauth=include_oauth,
    )


def _non_defaults(settings: SandboxSettings, qbo_latency: float) -> list[str]:
    """One line per setting that differs from the real services' behaviour, for the start-up banner."""
    d = _SETTING_DEFAULTS
    lines = []
    if settings.sf_session_ttl_s != d.sf_session_ttl_s:
        lines.append(f"Salesforce session timeout {settings.sf_session_ttl_s:g}s (default {d.sf_session_ttl_s:g}s)")
    if settings.sf_daily_api_limit != d.sf_daily_api_limit:
        lines.append(
            f"Salesforce daily API limit {settings.sf_daily_api_limit} requests (default {d.sf_daily_api_limit})"
        )
    if settings.qbo_access_token_ttl_s != d.qbo_access_token_ttl_s:
        lines.append(
            f"QBO access token lifetime {settings.qbo_access_token_ttl_s:g}s (default {d.qbo_access_token_ttl_s:g}s)"
        )
    if settings.qbo_refresh_grace_s != d.qbo_refresh_grace_s:
        lines.append(
            f"QBO replaced refresh token grace {settings.qbo_refresh_grace_s:g}s (default {d.qbo_refresh_grace_s:g}s)"
        )
    if qbo_latency:
        lines.append(f"QBO latency {qbo_latency:g}s per API request (default 0)")
    if settings.time_scale != d.time_scale:
        lines.append(f"time scale {settings.time_scale:g}x (default 1)")
    for service, config in settings.faults.items():
        parts = [
            f"{name.replace('_', ' ')} {getattr(config, name):g}"
            for name in ("error_rate", "slow_rate", "drop_rate")
            if getattr(config, name)
        ]
        if config.slow_rate:
            parts.append(f"slow seconds {config.slow_seconds:g}")
        if config.expire_token_after is not None:
            parts.append(f"expire {'sessions' if service == 'salesforce' else 'tokens'} after "
                         f"{config.expire_token_after} requests")
        if config.include_oauth:
            parts.append("also on OAuth")
        parts.append(f"seed {config.seed}")
        lines.append(f"{_SERVICE_NAMES[service]} faults: {', '.join(parts)}")
    return lines


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
    sf_session_ttl: Annotated[
        float,
        typer.Option(
            min=1.0, max=86400.0, metavar="SECONDS", rich_help_panel=_SF_PANEL,
            help="Salesforce session inactivity timeout: a session unused this long answers 401 INVALID_SESSION_ID "
            "(each request resets the timer). Real orgs: 15 minutes to 24 hours, default 2 hours. Emulated "
            "seconds, so --time-scale speeds it up.",
        ),
    ] = _SETTING_DEFAULTS.sf_session_ttl_s,
    sf_daily_api_limit: Annotated[
        int,
        typer.Option(
            min=1, metavar="REQUESTS", rich_help_panel=_SF_PANEL,
            help="Salesforce daily API request allocation (rolling 24 hours): once used up, every REST call answers "
            "403 REQUEST_LIMIT_EXCEEDED. Developer Edition orgs get 15,000.",
        ),
    ] = _SETTING_DEFAULTS.sf_daily_api_limit,
    qbo_access_token_ttl: Annotated[
        float,
        typer.Option(
            min=1.0, metavar="SECONDS", rich_help_panel=_QBO_PANEL,
            help="Lifetime of a QBO OAuth access token (the token response's expires_in); after it the API answers "
            "401 and the client must refresh. Intuit: one hour. Real seconds, not scaled by --time-scale.",
        ),
    ] = _SETTING_DEFAULTS.qbo_access_token_ttl_s,
    qbo_refresh_grace: Annotated[
        float,
        typer.Option(
            min=0.0, metavar="SECONDS", rich_help_panel=_QBO_PANEL,
            help="How long a QBO refresh token keeps working after it was used and replaced by a new one; then it "
            "answers invalid_grant. Intuit: 24 hours. Real seconds, not scaled by --time-scale.",
        ),
    ] = _SETTING_DEFAULTS.qbo_refresh_grace_s,
    qbo_latency: Annotated[
        float,
        typer.Option(
            min=0.0, metavar="SECONDS", rich_help_panel=_QBO_PANEL,
            help="Extra server time on every QBO API request, inside QBO's concurrent-request window, so parallel "
            "requests overlap as they do against Intuit. Real seconds. For Salesforce use --sf-slow-rate.",
        ),
    ] = 0.0,
    sf_error_rate: Annotated[float, _rate("salesforce", "answered 500 UNKNOWN_EXCEPTION or 503 SERVER_UNAVAILABLE")] = 0.0,
    sf_slow_rate: Annotated[float, _rate("salesforce", "delayed by --sf-slow-seconds before being served")] = 0.0,
    sf_slow_seconds: Annotated[float, _slow_seconds("salesforce")] = _FAULT_DEFAULTS.slow_seconds,
    sf_drop_rate: Annotated[float, _rate("salesforce", "whose connection is closed without an answer")] = 0.0,
    sf_expire_sessions_after: Annotated[
        int | None,
        typer.Option(
            min=0, metavar="REQUESTS", rich_help_panel=_FAULT_PANEL,
            help="Salesforce: end every session once, after this many API requests, as an admin's 'revoke' or a "
            "password change would; the next request answers 401 INVALID_SESSION_ID. Default: never.",
        ),
    ] = None,
    qbo_error_rate: Annotated[float, _rate("qbo", "answered 503 from the gateway (HTML) or 500 SystemFault 10000")] = 0.0,
    qbo_slow_rate: Annotated[float, _rate("qbo", "delayed by --qbo-slow-seconds before being served")] = 0.0,
    qbo_slow_seconds: Annotated[float, _slow_seconds("qbo")] = _FAULT_DEFAULTS.slow_seconds,
    qbo_drop_rate: Annotated[float, _rate("qbo", "whose connection is closed without an answer")] = 0.0,
    qbo_expire_tokens_after: Annotated[
        int | None,
        typer.Option(
            min=0, metavar="REQUESTS", rich_help_panel=_FAULT_PANEL,
            help="QBO: expire every access token once, after this many API requests, as Intuit does when a token "
            "is revoked early; the next request answers 401 and the client must refresh. Default: never.",
        ),
    ] = None,
    qbo_faults_on_oauth: Annotated[
        bool,
        typer.Option(
            "--qbo-faults-on-oauth", rich_help_panel=_FAULT_PANEL, show_default=False,
            help="Also inject the QBO faults into the OAuth token endpoint (token refreshes fail too). Default: off.",
        ),
    ] = False,
    fault_seed: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=_FAULT_PANEL,
            help="Seed of the fault draws: the n-th request meets the same fate on every run. Default: --seed.",
        ),
    ] = None,
) -> None:
    """Serve the sandbox APIs and print the environment that points LedgerLink at them.

    Example: `ledgerlink sandbox serve --profile tiny --seed 7`, then in another terminal
    `source .ledgerlink/sandbox/env.sh` and run the pipeline.
    """
    from ledgerlink import paths
    from sandbox.generator import PROFILES, ScenarioError, generate, load_scenario, write_dataset
    from sandbox.server import Sandbox

    day = _parse_as_of(as_of)
    if time_scale <= 0:
        raise typer.BadParameter("must be greater than 0", param_hint="--time-scale")
    if scenario is None and profile not in PROFILES:
        raise typer.BadParameter(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}", param_hint="--profile")
    faults_seed = seed if fault_seed is None else fault_seed
    faults = {
        "salesforce": _fault_config(
            "salesforce", error_rate=sf_error_rate, slow_rate=sf_slow_rate, slow_seconds=sf_slow_seconds,
            drop_rate=sf_drop_rate, expire_after=sf_expire_sessions_after, seed=faults_seed,
        ),
        "qbo": _fault_config(
            "qbo", error_rate=qbo_error_rate, slow_rate=qbo_slow_rate, slow_seconds=qbo_slow_seconds,
            drop_rate=qbo_drop_rate, expire_after=qbo_expire_tokens_after, seed=faults_seed,
            include_oauth=qbo_faults_on_oauth,
        ),
    }
    settings = SandboxSettings(
        time_scale=time_scale,
        seed=seed,
        sf_session_ttl_s=sf_session_ttl,
        sf_daily_api_limit=sf_daily_api_limit,
        qbo_access_token_ttl_s=qbo_access_token_ttl,
        qbo_refresh_grace_s=qbo_refresh_grace,
        faults={service: config for service, config in faults.items() if config is not None},
    )
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
    try:
        sandbox = Sandbox(dataset, state, settings, host=host, ports=(sf_port, qbo_port, oauth_port))
    except OSError as exc:
        _say(f"error: cannot listen on {host} ports {sf_port}/{qbo_port}/{oauth_port}: {exc.strerror}; "
             "pick others with --sf-port/--qbo-port/--oauth-port (0 = any free port)")
        raise typer.Exit(2) from None
    # Not a SandboxSettings field: the QBO emulator reads it per request from the company.
    sandbox.qbo.latency_s = qbo_latency
    changed = _non_defaults(settings, qbo_latency)
    _say("Settings that differ from the real services: " + ("; ".join(changed) if changed else "none"))
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
