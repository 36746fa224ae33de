"""What the dbt docs leave undescribed: models, sources and columns, by unique_id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

PACKAGE = "omniplay"


def documented_nodes(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The project's own models and sources (not tests, seeds' tests or other packages)."""
    nodes = {uid: node for uid, node in manifest["nodes"].items()
             if node["resource_type"] == "model" and node["package_name"] == PACKAGE}
    nodes.update({uid: node for uid, node in manifest["sources"].items() if node["package_name"] == PACKAGE})
    return nodes


def undocumented(manifest: Mapping[str, Any], warehouse_columns: Mapping[str, Iterable[str]]) -> list[str]:
    """One line per model or source without a description, per warehouse column (catalog)
    without one, and per described column the warehouse does not have (stale docs).

    `warehouse_columns`: unique_id -> the relation's column names as built; nodes absent
    from it (not built) are checked for their own description only. Columns a model
    generates per play or per cap are described by glob in `config.meta.column_patterns`.
    """
    problems = []
    for uid, node in sorted(documented_nodes(manifest).items()):
        if not (node.get("description") or "").strip():
            problems.append(f"{uid}: no description ({node['original_file_path']})")
        described = {name.lower(): (col.get("description") or "").strip() for name, col in node["columns"].items()}
        if uid not in warehouse_columns:
            problems += [f"{uid}.{name}: no description" for name, text in described.items() if not text]
            continue
        built = {name.lower() for name in warehouse_columns[uid]}
        patterns = [p for p, text in (node.get("config", {}).get("meta", {}).get("column_patterns") or {}).items()
                    if str(text).strip()]
        problems += [f"{uid}.{name}: no description" for name in sorted(built)
                     if not described.get(name) and not any(fnmatchcase(name, p) for p in patterns)]
        problems += [f"{uid}.{name}: described but not in the warehouse" for name in sorted(set(described) - built)]
    return problems


def catalog_columns(catalog: Mapping[str, Any]) -> dict[str, list[str]]:
    """unique_id -> column names, from dbt's catalog.json (what the warehouse holds)."""
    return {uid: list(entry["columns"]) for section in ("nodes", "sources")
            for uid, entry in catalog[section].items()}
