"""The report as JUnit XML (``fluidspec conformance --junit-xml FILE``), so CI systems show the
clause table: one test case per clause and implementation, in one test suite per implementation.

* ``fail`` is a ``<failure>`` with the message, the example and the reproduce command;
* ``not-exercised`` is an ``<error>``: the clause was claimed but nothing judged it (exit 3);
* ``known`` and ``not-claimed`` are ``<skipped>`` with the reason;
* ``stale`` passes, with a note in ``<system-out>`` asking for the entry to be removed;
* ``not-selected`` clauses are left out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fluidspec.conformance._report import SuiteReport

__all__ = ["junit_xml"]


def junit_xml(report: SuiteReport) -> str:
    """The JUnit XML document of ``report`` (the common schema Jenkins, GitLab and GitHub read)."""
    suites = ET.Element("testsuites", name="fluidspec conformance")
    by_impl: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, int]] = {}
    for status in report.clause_statuses():
        if status.status == "not-selected":
            continue
        suite = by_impl.get(status.impl)
        if suite is None:
            suite = by_impl[status.impl] = ET.SubElement(suites, "testsuite", name=status.impl)
            counts[status.impl] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        tally = counts[status.impl]
        tally["tests"] += 1
        case = ET.SubElement(suite, "testcase", name=status.clause,
                             classname=f"{status.impl}.{status.tier}")
        failure = status.failure
        if status.status == "fail":
            tally["failures"] += 1
            detail = "" if failure is None else "\n".join(
                part for part in (failure.example, f"reproduce: {failure.reproduce}") if part)
            node = ET.SubElement(case, "failure", message=(
                failure.message if failure is not None else "failed")[:1000])
            node.text = detail
        elif status.status == "not-exercised":
            tally["errors"] += 1
            ET.SubElement(case, "error", message="claimed, but no check reached the "
                                                 "implementation and judged it")
        elif status.status in ("known", "not-claimed"):
            tally["skipped"] += 1
            reason = (f"known failure: {status.known_reason}" if status.status == "known"
                      else "not claimed by the implementation")
            ET.SubElement(case, "skipped", message=reason)
        elif status.status == "stale":
            out = ET.SubElement(case, "system-out")
            out.text = (f"stale known-failures entry ({status.known_reason}): it passes now; "
                        f"remove it")
    for impl, suite in by_impl.items():
        for key, value in counts[impl].items():
            suite.set(key, str(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
