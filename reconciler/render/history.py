"""Render the history (render stage): receipts as text for people, versioned JSON for scripts.

Receipts come from reconciler/store/history.py as plain data, newest first; number 1
is the newest (`reconcile history show 1`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

SCHEMA_VERSION = 1
_MARK = {"stop": "x", "create": "+", "recreate": "~", "start": ">", "unpause": ">"}
_MARK |= {"restart": "@", "remove": "-"}


def _app_env(receipt: Mapping[str, Any]) -> str:
    app_env = receipt.get("app_env")
    return str(app_env.get("name") or "-") if isinstance(app_env, dict) else "-"


def _longest(receipt: Mapping[str, Any]) -> str:
    back = [u for u in receipt.get("unavailable") or () if u.get("until") == "ready"]
    if not back:
        return "-"
    worst = max(back, key=lambda u: float(u.get("seconds") or 0))
    return f"{worst['service']} {float(worst['seconds']):.1f} s"


def history_text(project: str, receipts: Sequence[Mapping[str, Any]]) -> str:
    if not receipts:
        return f"project {project} · no receipts yet: every apply that changes something leaves one"
    lines = [
        f"project {project} · {len(receipts)} receipt(s), newest first "
        "(`reconcile history show N` for one in full)",
        f"  {'#':>3}  {'when (UTC)':<20} {'who':<24} {'command':<10} {'APP_ENV':<8} "
        f"{'result':<16} {'actions':>7}  longest down",
    ]
    for number, receipt in enumerate(receipts, start=1):
        when = str(receipt.get("at", "?")).replace("T", " ").rstrip("Z")
        who = f"{receipt.get('user', '?')}@{receipt.get('host', '?')}"
        lines.append(
            f"  {number:>3}  {when:<20} {who[:24]:<24} {str(receipt.get('command'))[:10]:<10} "
            f"{_app_env(receipt)[:8]:<8} {str(receipt.get('result'))[:16]:<16} "
            f"{len(receipt.get('actions') or ()):>7}  {_longest(receipt)}"
        )
    return "\n".join(lines)


def receipt_text(project: str, number: int, total: int, receipt: Mapping[str, Any]) -> str:
    app_env = receipt.get("app_env")
    shown_env = f"{app_env.get('name')} ({app_env.get('source')})" if app_env else "-"
    lines = [
        f"receipt {number} of {total} · project {project}",
        f"  when:      {receipt.get('at')} ({float(receipt.get('seconds') or 0):.1f} s)",
        f"  who:       {receipt.get('user')}@{receipt.get('host')}",
        f"  command:   {receipt.get('command')}",
        f"  directory: {receipt.get('directory')}",
        f"  APP_ENV:   {shown_env}",
        f"  plan:      {receipt.get('plan_digest')}",
        f"  result:    {receipt.get('result')}",
    ]
    if receipt.get("error"):
        lines.append(f"  error:     {str(receipt['error']).splitlines()[0]}")
    lines.append("actions:")
    for action in receipt.get("actions") or ():
        kind = f"{action.get('kind', '?')}" + (
            " (start-first)" if action.get("start_first") else ""
        )
        lines.append(
            f"  {_MARK.get(str(action.get('kind')), '?')} {kind:<9} "
            f"{action.get('container')!s:<32} {action.get('status')!s:<11} "
            f"{float(action.get('seconds') or 0):5.1f} s  {'; '.join(action.get('reasons') or ())}"
        )
    lines.append("unavailable (measured: old container stopping -> new one ready):")
    for item in receipt.get("unavailable") or ():
        line = (
            f"  {item.get('service')!s:<24} {float(item.get('seconds') or 0):6.1f} s  "
            f"until {item.get('until')}"
        )
        if item.get("predicted") is not None:
            source = f" {item['predicted_from']}" if item.get("predicted_from") else ""
            line += f"  (predicted ~{item['predicted']:g} s{source})"
        lines.append(line)
    if not receipt.get("unavailable"):
        lines.append("  none: no running container was stopped")
    return "\n".join(lines)


def history_json(project: str, receipts: Sequence[Mapping[str, Any]]) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "command": "history",
        "project": project,
        "receipts": [{"number": n, **r} for n, r in enumerate(receipts, start=1)],
    }
    return json.dumps(document, indent=2)


def receipt_json(project: str, number: int, receipt: Mapping[str, Any]) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "command": "history show",
        "project": project,
        "receipt": {"number": number, **receipt},
    }
    return json.dumps(document, indent=2)
