"""junit.xml: one testcase per case x model (x repeat) and one per gate, for CI test tabs.

Layout: <testsuites> holding a `<suite>.gates` testsuite (each gate row a testcase, a failed
gate a <failure>) and one `<suite>.<model>` testsuite per model (failed checks a <failure>
with every reason, a request error an <error>). Text is stripped of the characters XML 1.0
cannot carry; ElementTree escapes the rest.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.report.view import RunView

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_TEXT = 4000


def clean(text: object, limit: int | None = None) -> str:
    value = _XML_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", "" if text is None else str(text))
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def _suite(parent: ET.Element, name: str, cases: list[ET.Element], timestamp: str | None) -> ET.Element:
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    time = sum(float(c.get("time", "0")) for c in cases)
    attributes = {"name": name, "tests": str(len(cases)), "failures": str(failures), "errors": str(errors),
                  "skipped": "0", "time": f"{time:.3f}"}
    if timestamp:
        attributes["timestamp"] = timestamp
    suite = ET.SubElement(parent, "testsuite", attributes)
    suite.extend(cases)
    return suite


def _case_element(classname: str, name: str, answer: dict[str, Any]) -> ET.Element:
    element = ET.Element("testcase", {"classname": clean(classname), "name": clean(name),
                                      "time": f"{float(answer.get('latency_s') or 0):.3f}"})
    if answer.get("error"):
        kind = str(answer["error"]).split(":", 1)[0]
        error = ET.SubElement(element, "error", {"message": clean(answer["error"], 500), "type": clean(kind)})
        error.text = clean(answer["error"])
    elif answer.get("passed") is False:
        reasons = [f"{name}: {reason}" for name, passed, reason in answer.get("checks", []) if not passed]
        failure = ET.SubElement(element, "failure", {"message": clean("; ".join(reasons), 500), "type": "check"})
        failure.text = clean("\n".join(reasons) + "\n\noutput:\n" + clean(answer.get("output"), MAX_TEXT))
    return element


def junit_tree(view: RunView) -> ET.Element:
    suite_name = view.suite_name
    root = ET.Element("testsuites", {"name": f"harness: {clean(suite_name)}"})
    timestamp = (view.run.get("started_at") or "")[:19] or None
    if view.gates:
        gate_cases = []
        for outcome in view.gates:
            label = outcome.gate if outcome.model is None else f"{outcome.gate} [{outcome.model}]"
            element = ET.Element("testcase", {"classname": clean(f"{suite_name}.gates"), "name": clean(label), "time": "0"})
            if not outcome.passed:
                message = (f"{outcome.figure}: {outcome.bound} {outcome.value_text}, needs {outcome.threshold_text}"
                           + (f" ({outcome.note})" if outcome.note else ""))
                failure = ET.SubElement(element, "failure", {"message": clean(message, 500), "type": "gate"})
                failure.text = clean(message)
            gate_cases.append(element)
        _suite(root, f"{suite_name}.gates", gate_cases, timestamp)
    repeats = any(row.repeat for row in view.rows)
    for model in view.models:
        classname = f"{suite_name}.{model}"
        cases = [
            _case_element(classname, f"{row.case_id}#{row.repeat}" if repeats else row.case_id, row.answers[model])
            for row in view.rows
            if model in row.answers
        ]
        _suite(root, classname, cases, timestamp)
    totals = {key: sum(int(s.get(key, "0")) for s in root) for key in ("tests", "failures", "errors")}
    root.attrib.update({key: str(value) for key, value in totals.items()})
    ET.indent(root)
    return root


def write_junit(view: RunView, path: Path) -> None:
    ET.ElementTree(junit_tree(view)).write(path, encoding="utf-8", xml_declaration=True)
