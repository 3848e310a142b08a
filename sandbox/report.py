"""The sandbox report: plain text for the terminal, and one HTML page with inline SVG charts (no scripts)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eligibility.explanations import LOWERED, RAISED
from sandbox.fault_report import HEADER, fault_lines, fault_rows
from sandbox.run import SandboxReport

BAR_COLOUR = "#2f6db5"
ALERT_COLOUR = "#c0392b"
EXPLAINED = (RAISED, LOWERED)  # what moved a decision's score, in plain words


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def render_text(report: SandboxReport) -> str:
    m, j, p, s, c, a = report.mdm, report.journeys, report.propensity, report.services, report.call, report.alert
    tally = j.tally
    lines = [
        f"omni sandbox: {report.env} at stage {report.maturity}, seed {report.sizes.seed}",
        f"  {len(report.stacks)} stacks provisioned in moto: "
        + ", ".join(f"{count} {kind}" for kind, count in report.provisioned.items()),
        "",
        "customer domain (MDM)",
        f"  {m.source_records:,} source records in {len(m.source_systems)} systems "
        + ", ".join(f"{k} {v:,}" for k, v in m.source_systems.items()),
        f"  {m.true_customers:,} true customers, {m.true_duplicates:,} duplicate records (generator truth)",
        f"  {m.golden_records:,} golden records, {m.duplicates_found:,} duplicates found; "
        f"precision {m.precision:.4f} recall {m.recall:.4f} F1 {m.f1:.4f}",
        f"  {m.identity_links:,} identity links ({m.ambiguous_identifiers} ambiguous identifiers withheld); "
        f"loaded by the MDM loader via {m.rule}",
        f"  largest cluster: {m.sample_cluster[0] if m.sample_cluster else '-'}",
        "",
        "experience pathway",
        f"  {report.sizes.journeys:,} journeys ("
        + ", ".join(f"{k} {v}" for k, v in j.journeys.most_common())
        + f") -> {j.events_in:,} events on the stream ({j.invalid_sent} deliberately invalid,"
        f" {j.duplicates_sent} put twice)",
        f"  {tally.batches} batches, {tally.applied_total:,} applied, {tally.duplicates} duplicates,"
        f" {tally.dead_lettered} dead-lettered, "
        f"{tally.provisional_ids} provisional ids, {tally.state_writes:,} state writes, {j.events_per_second:,.0f} events/s",
        "  triggers: " + ", ".join(f"{k} {v}" for k, v in tally.triggers.most_common()),
        "  on the bus: " + ", ".join(f"{k} {v}" for k, v in j.bus_events.most_common()),
    ]
    for trigger in j.sample_triggers[:4]:
        lines.append("    " + json.dumps(trigger, default=str)[:160])
    lines += [
        "",
        "propensity model",
        f"  {p.training_rows + p.validation_rows:,} customers from {p.source_path} (leak dropped: {', '.join(p.dropped)})",
        f"  validation AUC {p.auc:.3f}, precision at top decile {p.precision_at_top_decile:.3f} "
        f"(base rate {p.base_rate:.3f}); model {p.model_version} serves the endpoint in-process",
        "",
        "microservices",
        f"  rule set {s.rule_set_version}; calls: " + ", ".join(f"{k} x{v}" for k, v in sorted(s.calls.items())),
        f"  {s.decisions} decisions for {p.product}: {s.eligible} eligible; score source "
        + ", ".join(f"{k} {v}" for k, v in s.score_sources.items()),
        "  mean latency: " + ", ".join(f"{k} {v} ms" for k, v in s.mean_latency_ms.items()),
    ]
    for decision in s.sample_decisions:
        verdict = "eligible " + ",".join(decision["offers"]) if decision["eligible"] else "not eligible"
        score = decision.get("score")
        lines.append(
            f"    {decision['customer_id']}: {verdict} (score {score if score is None else round(score, 3)}); "
            + "; ".join(decision["reasons"][:3])
        )
        lines += [f"      {reason}" for reason in decision["reasons"] if reason.startswith(EXPLAINED)]
    for action in s.sample_actions:
        lines.append(f"    next best action for {action['customer_id']}: {action['action']} - {action['script']}")
    if report.state is not None:
        st = report.state
        lines += [
            "",
            "unified live state (stage 5)",
            f"  {st.stream_records:,} stream records -> {st.published_on_bus:,} CustomerStateChanged on the bus "
            f"({', '.join(f'{k} {v}' for k, v in st.by_record.items())}), {st.events_per_second:,.0f} records/s",
            "  most changed: " + ", ".join(f"{k} {v}" for k, v in st.changed_fields.most_common(6)),
            f"  rescoring rule matched {st.rescore_deliveries:,}; rescored {st.rescored}: "
            + ", ".join(f"{k} {v}" for k, v in st.rescore_outcomes.items()),
        ]
    lines += ["", f"contact centre: {c.flow}, caller {c.caller}"]
    lines += [f"  {step}" for step in c.steps]
    lines += [f"  says: {message}" for message in c.messages]
    lines += [f"  {key} = {value}" for key, value in c.attributes.items() if key.startswith(("next_action", "offer"))]
    lines += [
        "",
        f"anomaly alert: {a.alarm}",
        f"  history {', '.join(f'{v:.0f}' for v in a.history)} | spike {', '.join(f'{v:.0f}' for v in a.spike)}"
        f" (upper band {a.upper_band}) -> {a.state}",
        f"  routed to team {a.team} on {a.topic}",
        f"  subject: {a.subject}",
    ]
    lines += [f"  | {line}" for line in (a.message or "").splitlines()[:6]]
    if report.drift is not None:
        d = report.drift
        lines += ["", f"feature drift: {d.alarm} (PSI >= {d.threshold} alarms {d.expected_topic})"]
        lines += [
            f"  {r.population}: {r.decisions} decisions, largest PSI {r.largest_psi}"
            f" ({', '.join(r.drifted) or 'no input over the threshold'}) -> {r.alarm_state}"
            + (f", notified {r.notified_topic}" if r.notified_topic else "")
            for r in d.runs
        ]
    if report.faults is not None:
        lines += fault_lines(report.faults)
    lines += ["", "checks"]
    lines += [f"  [{'ok' if check.ok else 'FAILED'}] {check.name}: {check.detail}" for check in report.checks]
    lines += [f"  note: {note}" for note in report.notes]
    lines += ["", "time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())]
    return "\n".join(lines)


def _bars(title: str, values: Mapping[str, float], *, colour: str = BAR_COLOUR, width: int = 560) -> str:
    """A horizontal bar chart as inline SVG."""
    if not values:
        return ""
    row, label_width = 22, 190
    height = row * len(values) + 30
    top = max(values.values()) or 1
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" class="title">{html.escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(values.items()):
        y = 24 + index * row
        length = (width - label_width - 70) * value / top
        parts += [
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{html.escape(str(label))}</text>',
            f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{row - 6}" fill="{colour}"/>',
            f'<text x="{label_width + length + 4:.1f}" y="{y + 14}">{value:,.4g}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _series(title: str, values: Sequence[float], *, upper: float, highlight_last: int, width: int = 560) -> str:
    """Columns per period with the alarm's upper band as a line; the spike's columns in red."""
    height, bottom = 180, 150
    top = max([*values, upper]) * 1.1 or 1
    step = (width - 40) / len(values)
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" class="title">{html.escape(title)}</text>',
    ]
    for index, value in enumerate(values):
        bar = (bottom - 24) * value / top
        colour = ALERT_COLOUR if index >= len(values) - highlight_last else BAR_COLOUR
        x = 30 + index * step
        parts.append(
            f'<rect x="{x:.1f}" y="{bottom - bar:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{bottom + 14}">{value:.0f}</text>')
    band = bottom - (bottom - 24) * upper / top
    parts.append(
        f'<line x1="26" x2="{width - 4}" y1="{band:.1f}" y2="{band:.1f}" stroke="{ALERT_COLOUR}" stroke-dasharray="4"/>'
    )
    parts.append(f'<text x="{width - 4}" y="{band - 4:.1f}" text-anchor="end">upper band {upper}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: SandboxReport) -> str:
    m, j, p, s, c, a = report.mdm, report.journeys, report.propensity, report.services, report.call, report.alert
    tally = j.tally
    deciles = {f"{i / 10:.1f}-{(i + 1) / 10:.1f}": float(n) for i, n in enumerate(p.score_histogram)}
    sections = [
        "<h2>Checks</h2>",
        _table([("ok" if ch.ok else "FAILED", ch.name, ch.detail) for ch in report.checks], ("", "check", "detail")),
        *(["<h2>Faults injected</h2>", _table(fault_rows(report.faults), HEADER)] if report.faults else []),
        "<h2>Customer domain (MDM)</h2>",
        f"<p>{m.source_records:,} source records, {m.true_customers:,} true customers; {m.golden_records:,} golden "
        f"records, {m.duplicates_found:,} duplicates found, {m.identity_links:,} identity links.</p>",
        _bars("Matching against the generator's truth", {"precision": m.precision, "recall": m.recall, "F1": m.f1}),
        _bars("Source records per system", {k: float(v) for k, v in m.source_systems.items()}),
        "<h2>Experience pathway</h2>",
        f"<p>{j.events_in:,} events in, {tally.applied_total:,} applied, {tally.duplicates} duplicates, "
        f"{tally.dead_lettered} dead-lettered, "
        f"{j.events_per_second:,.0f} events/s through the event processor.</p>",
        _bars("Events by type", {k: float(v) for k, v in j.events_by_type.most_common()}),
        _bars("Triggers on the bus", {k: float(v) for k, v in j.bus_events.most_common()}, colour="#6a4fb5"),
        "<h2>Propensity</h2>",
        f"<p>Validation AUC {p.auc:.3f}, precision at top decile {p.precision_at_top_decile:.3f}, "
        f"model {html.escape(p.model_version)}.</p>",
        _bars("Customers per propensity score", deciles),
        "<h2>Microservices</h2>",
        _table(sorted(s.calls.items()), ("call", "count")),
        _bars("Eligibility reasons", {k: float(v) for k, v in s.reasons.most_common(8)}, colour="#3c8d5a"),
        _table(
            [
                (d["customer_id"], d["eligible"], ", ".join(d["offers"]), d.get("score"), "; ".join(d["reasons"]))
                for d in s.sample_decisions
            ],
            ("customer", "eligible", "offers", "score", "reasons"),
        ),
        _table(
            [(x["customer_id"], x["action"], x["script"]) for x in s.sample_actions],
            ("customer", "next best action", "script"),
        ),
    ]
    if report.state is not None:
        sections += [
            "<h2>Unified live state</h2>",
            f"<p>{report.state.stream_records:,} stream records, {report.state.published_on_bus:,} CustomerStateChanged "
            f"on the bus; rescoring rule matched {report.state.rescore_deliveries:,}.</p>",
            _bars("Changed fields", {k: float(v) for k, v in report.state.changed_fields.most_common(8)}),
        ]
    sections += [
        "<h2>Contact centre</h2>",
        f"<p>{html.escape(c.flow)}: ended {html.escape(c.end_reason)} in {html.escape(str(c.queue))}.</p>",
        "<ol>" + "".join(f"<li>{html.escape(step)}</li>" for step in c.steps) + "</ol>",
        "<h2>Anomaly alert</h2>",
        _series(
            f"{a.alarm} (complaints per period)",
            [*a.history, *a.spike],
            upper=a.upper_band,
            highlight_last=len(a.spike),
        ),
        f"<p>{html.escape(a.state)} routed to <b>{html.escape(a.team)}</b> on {html.escape(str(a.topic))}.</p>",
        f"<pre>{html.escape(a.subject or '')}\n\n{html.escape(a.message or '')}</pre>",
        *(
            [
                "<h2>Feature drift</h2>",
                _table(
                    [
                        (
                            r.population,
                            r.decisions,
                            r.largest_psi,
                            ", ".join(r.drifted),
                            r.alarm_state,
                            r.notified_topic or "",
                        )
                        for r in report.drift.runs
                    ],
                    ["population", "decisions", "largest PSI", "inputs over the threshold", "alarm", "notified"],
                ),
            ]
            if report.drift is not None
            else []
        ),
        "<h2>Run</h2>",
        _bars("Seconds per step", report.timings, colour="#888"),
        "<pre>" + html.escape("\n".join(report.progress)) + "</pre>",
    ]
    status = "all checks passed" if report.ok else "SOME CHECKS FAILED"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>omni sandbox: {html.escape(report.env)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}"
        "svg.chart{display:block;margin:1em 0;font-size:12px}svg .title{font-weight:600}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}"
        "</style></head><body>"
        f"<h1>omni sandbox: {html.escape(report.env)} at stage {html.escape(report.maturity)}</h1>"
        f"<p>{status}; seed {report.sizes.seed}, {report.sizes.customers:,} source records, "
        f"{report.sizes.journeys:,} journeys; {len(report.stacks)} stacks provisioned in moto.</p>"
        + "\n".join(part for part in sections if part)
        + "</body></html>\n"
    )


def write_html(report: SandboxReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path
