"""The issue's targets and the markdown report of the classroom benchmark."""

from __future__ import annotations

from typing import Any

P99_TARGET_MS = 300.0  # every request type
DELIVERY_P99_TARGET_MS = 150.0


def targets(run: dict[str, Any]) -> dict[str, Any]:
    """Whether a run holds issue 6's targets: p99 < 300 ms for every request type, card delivery
    p99 < 150 ms, zero errors, zero lost events (and, when verified, no acknowledged submission lost)."""
    why = []
    for kind, row in run["per_request"].items():
        if row["p99_ms"] is not None and row["p99_ms"] >= P99_TARGET_MS:
            why.append(f"{kind} p99 {row['p99_ms']:.0f} ms")
    delivery = run["delivery"]["p99_ms"]
    if delivery is None:
        why.append("no card delivered")
    elif delivery >= DELIVERY_P99_TARGET_MS:
        why.append(f"delivery p99 {delivery:.0f} ms")
    if run["errors"]:
        why.append(f"{run['errors']} errors")
    if run["lost_events"]:
        why.append(f"{run['lost_events']} lost events")
    if run.get("timed_out"):
        why.append("timed out")
    lost_acked = (run.get("verify") or {}).get("acknowledged_lost")
    if lost_acked:
        why.append(f"{lost_acked} acknowledged submissions lost")
    return {"holds": not why, "why": why}


def targets_line(result: dict[str, Any]) -> str:
    return "holds targets: yes" if result["holds"] else "holds targets: no: " + ", ".join(result["why"])


def largest_k(runs: list[dict[str, Any]]) -> dict[str, int | None]:
    """Per scenario with K (bell, steady): the largest K whose run held the targets (None: none did)."""
    out: dict[str, int | None] = {}
    for run in runs:
        if run["scenario"] == "broadcast":
            continue
        best = out.get(run["scenario"])
        if run["targets"]["holds"] and (best is None or run["classes"] > best):
            best = run["classes"]
        out[run["scenario"]] = best
    return out


def _headline(run: dict[str, Any]) -> str:
    s = run["server"]
    if run["scenario"] == "broadcast":
        what = f"**broadcast**: one card to {run['students']} students in one class"
    elif run["scenario"] == "steady":
        what = (
            f"**steady**: {run['classes']} classes × {run['students'] // max(1, run['classes'])} = "
            f"{run['students']} students, window of {run['steady_seconds']} s (figures for the window only)"
        )
    else:
        what = f"**bell**: {run['classes']} classes × 40 = {run['students']} students"
    return (
        f"{what}, ramp {run['ramp_s']} s, QR share {run['qr_share']}, answers within "
        f"{run['answer_seconds']} s, teachers reload every {run['watch_seconds']} s; run {run['duration_s']} s, "
        f"measured {run['measured_s']} s: {run['requests']} requests ({run['req_per_s']}/s), errors {run['errors']}, "
        f"lost events {run['lost_events']}, completed {run['completed_students']}/{run['students']}, "
        f"reconnects {run['reconnects']}; server CPU {s['cpu_s']} s ({s['cpu_share_of_one_core']} cores on "
        f"average, {s['peak_cores_2s']} at the busiest 2 s), peak RSS {s['peak_rss_mib']} MiB; client CPU "
        f"{run['client_cpu_s']} s ({run['client_peak_cores_2s']} cores at its busiest 2 s, event-loop lag p99 "
        f"{run['client_loop_lag']['p99_ms']} ms, max {run['client_loop_lag']['max_ms']} ms); "
        f"Argon2 hash {run['argon2_hash_ms']} ms"
    )


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"### classroom benchmark — {m['date_utc']} UTC, {m['cpus']} CPUs, load {m['loadavg_1_5_15']} (before)"]
    for run in result["runs"]:
        d = run["delivery"]
        lines += ["", _headline(run), ""]
        if run.get("killed"):
            k = run["killed"]
            lines += [f"Failover: SIGKILL to pid {k['pid']} at {k['at_s']} s into the run ({k['result']}).", ""]
        lines += [
            "| request | count | errors | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, row in run["per_request"].items():
            lines.append(
                f"| {kind} | {row['count']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} | "
                f"{row['p99_ms']} | {row['max_ms']} |"
            )
        lines += [
            "",
            f"Card delivery ({d['sends']} sends; teacher's send request leaves → student's stream has the card): "
            f"p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms, p99 {d['p99_ms']} ms, max {d['max_ms']} ms, "
            f"{d['received']}/{d['expected']} received, {d['before_ack']} before the teacher had the answer; "
            f"send request p50 {d['send_request_p50_ms']} ms, max {d['send_request_max_ms']} ms.",
        ]
        if run["scenario"] == "steady":
            f = run["first_send_delivery"]
            lines.append(
                f"(Before the window, the first card: delivery p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
                f"{f['received']}/{f['expected']}.)"
            )
        if "per_class" in d:
            lines += [
                "",
                "| lesson | received | p50 ms | p99 ms | last ms | send request ms | last after ack ms | box full s |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for lesson, row in d["per_class"].items():
                lines.append(
                    f"| {lesson} | {row['received']}/{row['expected']} | {row['p50_ms']} | {row['p99_ms']} | "
                    f"{row['last_ms']} | {row['send_request_ms']} | {row['last_after_ack_ms']} | "
                    f"{row['box_full_after_s']} |"
                )
        v = run.get("verify")
        if v:
            lines += [
                "",
                f"Verified in the database: acknowledged submissions {v['acknowledged']}, stored for those "
                f"students {v['stored']}; **acknowledged submissions lost: {v['acknowledged_lost']}**; "
                f"**students who missed an event: {run['students_missed_event']}** (streams reconnected "
                f"{run['reconnects']} times, {run['duplicate_events_ignored']} replayed events ignored; "
                f"{run['students_without_stream']} students never had a stream).",
            ]
        lines += ["", targets_line(run["targets"])]
    best = largest_k(result["runs"])
    for scenario, k in best.items():
        if sum(1 for r in result["runs"] if r["scenario"] == scenario) > 1 or result.get("search"):
            lines += ["", f"{scenario}: largest K holding the targets: {k if k is not None else 'none'}"]
    if result.get("search"):
        lines.append(f"(search: {result['search']})")
    cmp = result.get("comparison")
    if cmp:
        lines += [
            "",
            f"**Closed loop, {cmp['concurrency']} connections × {cmp['seconds']} s each** "
            f"({cmp['classnote']['tool']}, same box, one after the other):",
            "",
            "| target | req/s | p50 ms | p99 ms | errors | server CPU µs/req | ratio to floor | ratio to ceiling |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        floor = cmp["floor"]["req_per_s"] or 1
        ceiling = cmp["ceiling"]["req_per_s"] or 1
        for name, label in (
            ("classnote", f"classnote `{cmp['classnote_path']}` (student's lesson page)"),
            ("classnote_home", "classnote `/home/` (student)"),
            ("floor", "bare authenticated Django (bench/serving `/auth/`, dispatcher C)"),
            ("ceiling", "raw ASGI hello (uvicorn)"),
        ):
            row = cmp[name]
            lines.append(
                f"| {label} | {row['req_per_s']} | {row['p50_ms']} | {row['p99_ms']} | {row['errors']} | "
                f"{row['server_cpu_us_per_req']} | {row['req_per_s'] / floor:.2f} | {row['req_per_s'] / ceiling:.3f} |"
            )
    return "\n".join(lines) + "\n"
