"""``simdb latency profile``: fault profiles built from what real systems measured (docs/faults.md)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Latency profiles from production measurements.", no_args_is_help=True)
profile_app = typer.Typer(
    help="Build a fault profile from measurements.\n\nExamples:\n\n"
    "  simdb latency profile redis redis://prod-cache:6379 -o cache-faults.yaml --scale 2",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")

SCALE = typer.Option(1.0, "--scale", help="Multiply every latency (2.0: rehearse a bad day).")
OUT = typer.Option(None, "--out", "-o", help="Write the profile here [default: stdout].")


def _emit(data: object, out: Path | None) -> None:
    import yaml

    text = yaml.safe_dump(data, sort_keys=False)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@profile_app.command("redis")
def profile_redis(
    url: str = typer.Argument(..., help="A real Redis 7+: redis://[:password@]host:port/0"),
    out: Path | None = OUT,
    scale: float = SCALE,
    min_calls: int = typer.Option(1, "--min-calls", help="Leave out commands seen fewer times."),
) -> None:
    """Per-command latency rules (histograms) from a real Redis's ``LATENCY HISTOGRAM``.

    Examples:

      simdb latency profile redis redis://127.0.0.1:6379/0 -o cache-faults.yaml

      simdb redis serve --faults cache-faults.yaml
    """
    import redis

    from simdb.errors import SimdbError
    from simdb.faults.profile import parse_latency_histogram, redis_profile

    if scale <= 0:
        raise typer.BadParameter("must be above 0", param_hint="--scale")
    try:
        with redis.Redis.from_url(url, socket_timeout=10) as client:
            reply = client.execute_command("LATENCY", "HISTOGRAM")
        profile = redis_profile(parse_latency_histogram(reply), min_calls=min_calls, factor=scale)
    except (redis.RedisError, SimdbError, ValueError) as exc:  # ValueError: not a redis:// URL
        typer.echo(f"error: {url}: {exc}", err=True)
        raise typer.Exit(2) from None
    _emit(profile, out)


@profile_app.command("thrift")
def profile_thrift(
    snapshot: Path = typer.Argument(..., help="A snapshot holding recordings (simdb thrift record)."),
    part: str = typer.Option(..., "--part", help="The Thrift part (thrift/<part>/)."),
    out: Path | None = OUT,
    scale: float = SCALE,
) -> None:
    """p50/p99 per method from recordings, as a stub file's ``faults:`` section.

    Examples:

      simdb latency profile thrift seeds/recorded --part ranker -o ranker-faults.yaml --scale 1.5
    """
    from simdb.errors import SimdbError
    from simdb.faults.profile import scale_thrift
    from simdb.snapshot.record import profile_of_part

    try:
        profile = scale_thrift(profile_of_part(snapshot, part), scale)
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _emit({"faults": profile}, out)
