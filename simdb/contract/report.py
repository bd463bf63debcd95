"""Show a verification :class:`~simdb.contract.verify.Report`: a rich table, JSON, JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simdb.contract.diff import DiffReport
from simdb.contract.verify import Report, report_json
from simdb.thrift.codec import canonical_dumps

__all__ = ["print_diff", "print_report", "write_json", "write_junit"]


def print_report(report: Report, console: Console) -> None:
    """Per method: examples run, time, result; then each failure with its shrunk call and reproduction."""
    table = Table(title=f"contract verify {report.service} at {report.target} (seed {report.seed})")
    table.add_column("method")
    table.add_column("examples", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("properties")
    table.add_column("result")
    for m in report.methods:
        table.add_row(
            m.method,
            str(m.examples),
            f"{m.seconds:.2f}",
            ", ".join(m.properties) or "-",
            "[green]passed[/green]" if m.ok else "[red]FAILED[/red]",
        )
    console.print(table)
    for m in report.methods:
        if m.failure is None:
            continue
        console.print(f"[red bold]{escape(m.method)}[/red bold]: {escape(m.failure.problem)}")
        console.print(
            f"  smallest failing call: {escape(m.method)}({escape(canonical_dumps(m.failure.args))})"
        )
        console.print(f"  reproduce: {escape(m.failure.reproduce)}", soft_wrap=True)
    failed = sum(1 for m in report.methods if not m.ok)
    if failed:
        console.print(f"[red]{failed} of {len(report.methods)} methods failed[/red]")
    else:
        console.print(f"[green]all {len(report.methods)} methods passed[/green]")


def write_json(report: Report, path: Path) -> None:
    """Write the report as JSON."""
    path.write_text(report_json(report) + "\n", encoding="utf-8")


def write_junit(report: Report, path: Path) -> None:
    """Write the report as JUnit XML: one test suite per service, one test case per method."""
    failures = sum(1 for m in report.methods if not m.ok)
    seconds = sum(m.seconds for m in report.methods)
    suites = ET.Element("testsuites", tests=str(len(report.methods)), failures=str(failures))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"contract.{report.service}",
        tests=str(len(report.methods)),
        failures=str(failures),
        errors="0",
        time=f"{seconds:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="target", value=report.target)
    ET.SubElement(props, "property", name="seed", value=str(report.seed))
    for m in report.methods:
        case = ET.SubElement(
            suite, "testcase", classname=f"contract.{report.service}", name=m.method, time=f"{m.seconds:.3f}"
        )
        if m.failure is not None:
            failure = ET.SubElement(case, "failure", message=m.failure.problem, type="ContractViolation")
            failure.text = (
                f"{m.failure.problem}\nsmallest failing call: {m.method}({canonical_dumps(m.failure.args)})\n"
                f"reproduce: {m.failure.reproduce}\nexamples run: {m.examples}\n"
            )
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def print_diff(report: DiffReport, console: Console) -> None:
    """Per method: calls made and whether the answers matched; then each difference with its call."""
    table = Table(title=f"contract diff {report.service}: A {report.a} vs B {report.b} (seed {report.seed})")
    table.add_column("method")
    table.add_column("calls", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("result")
    for m in report.methods:
        verdict = "[green]same[/green]" if m.same else f"[red]{len(m.differences)} difference(s)[/red]"
        table.add_row(m.method, str(m.calls), f"{m.seconds:.2f}", verdict)
    console.print(table)
    for m in report.methods:
        if m.same:
            continue
        call = f"{m.method}({canonical_dumps(m.args or {})})"
        console.print(f"[red bold]{escape(m.method)}[/red bold]: answers differ for {escape(call)}")
        for d in m.differences[:20]:
            console.print(f"  {escape(d.path or '(answer)')}: A {escape(_show(d.a))}  B {escape(_show(d.b))}")
        console.print(f"  reproduce: {escape(m.reproduce)}", soft_wrap=True)
    differing = sum(1 for m in report.methods if not m.same)
    if differing:
        console.print(f"[red]{differing} of {len(report.methods)} methods answered differently[/red]")
    else:
        console.print(f"[green]all {len(report.methods)} methods answered alike[/green]")


def _show(value: object) -> str:
    text = canonical_dumps(value) if value is not None else "(absent)"
    return text if len(text) <= 120 else text[:117] + "..."
