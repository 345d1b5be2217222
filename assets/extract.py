"""Extract assets: one per declarative spec in `ledgerlink.extract.specs`.

Salesforce objects come through Bulk API 2.0 `queryAll` jobs, QBO entities through `query`
and `cdc`; both land in `staging.*` with COPY and one upsert per page. Each asset reports what
it read and wrote, and logs progress on long extracts.
"""


from datetime import date, timedelta

import dagster as dg

from ledgerlink.extract import qbo as qbo_extract
from ledgerlink.extract import salesforce as sf_extract
from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS, QboEntity, SalesforceObject
from pipelines.partitions import daily_partitions
from pipelines.resources import PostgresResource, QboResource, SalesforceResource, SettingsResource


class ExtractConfig(dg.Config):
    full_refresh: bool = False
    # Salesforce only: also look for records purged from the Recycle Bin (weekly by default).
    purge_sweep: bool = False


def _purge_sweep_due(context, config: ExtractConfig, weekday: int | None) -> bool:
    if config.purge_sweep:
        return True
    if weekday is None:
        return False
    day = date.fromisoformat(context.partition_key) if context.has_partition_key else date.today()
    return day.weekday() == weekday


def _preview(conn, table: str, limit: int = 5) -> str:
    rows = conn.execute(
        f"select id, _deleted, _extracted_at from staging.{table} order by _extracted_at desc, id limit {limit}"
    ).fetchall()
    lines = ["| id | deleted | extracted at |", "|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]:%Y-%m-%d %H:%M:%S} |" for r in rows]
    return "\n".join(lines)


def _result(conn, outcome: dict) -> dg.MaterializeResult:
    counts = outcome["counts"]
    table = outcome["table"].split(".", 1)[1]
    live = conn.execute(f"select count(*) from staging.{table} where not _deleted").fetchone()[0]
    metadata = {
        "dagster/row_count": dg.MetadataValue.int(live),
        "mode": outcome["mode"],
        "rows_read": counts.rows_read,
        "inserted": counts.inserted,
        "updated": counts.updated,
        "deleted": counts.deleted,
        "pages": counts.pages,
        "watermark": outcome["watermark"].isoformat() if outcome["watermark"] else "none",
        "table": outcome["table"],
        "preview": dg.MetadataValue.md(_preview(conn, table)),
    }
    if "purged" in outcome:
        metadata["purged_found_by_sweep"] = outcome["purged"]
    for child, written in counts.children.items():
        metadata[f"lines_written.{child}"] = written
    return dg.MaterializeResult(metadata=metadata)


def _run_extract(context, config: ExtractConfig, warehouse: PostgresResource, settings: SettingsResource,
                 client, extract_fn, source: str, spec) -> dg.MaterializeResult:
    """Shared body of every extract asset: connect, extract one spec, report what happened."""
    extract_settings = settings.settings.extract
    client.connect()
    options = {"page_size": extract_settings.bulk_page_size} if source == "salesforce" else {}
    with warehouse.connect(autocommit=True) as conn:
        outcome = extract_fn(
            client,
            conn,
            spec,
            run_id=context.run.run_id,
            full_refresh=config.full_refresh or f"{source}.{spec.name}" in extract_settings.full_refresh,
            safety_window=timedelta(minutes=extract_settings.safety_window_minutes),
            progress=context.log.info,
            **options,
        )
        if source == "salesforce" and outcome["mode"] == "incremental" and _purge_sweep_due(
                context, config, extract_settings.purge_sweep_weekday):
            # (A full load has just marked whatever it did not see.)
            purged = sf_extract.sweep_purged(client, conn, spec, run_id=context.run.run_id,
                                             page_size=extract_settings.bulk_page_size, progress=context.log.info)
            outcome["counts"].deleted += purged
            outcome["purged"] = purged
        return _result(conn, outcome)


def salesforce_asset(spec: SalesforceObject) -> dg.AssetsDefinition:
    @dg.asset(
        key=["staging", spec.table],
        group_name="extract",
        partitions_def=daily_partitions,
        kinds={"salesforce", "postgres"},
        pool="salesforce_api",
        description=f"Salesforce {spec.name} (Bulk API 2.0 queryAll, incremental on {spec.watermark_field}).",
    )
    def _extract(
        context: dg.AssetExecutionContext,
        config: ExtractConfig,
        warehouse: PostgresResource,
        salesforce: SalesforceResource,
        settings: SettingsResource,
    ) -> dg.MaterializeResult:
        return _run_extract(context, config, warehouse, settings, salesforce.client(),
                            sf_extract.extract_object, "salesforce", spec)

    return _extract


def qbo_asset(spec: QboEntity) -> dg.AssetsDefinition:
    @dg.asset(
        key=["staging", spec.table],
        group_name="extract",
        partitions_def=daily_partitions,
        kinds={"quickbooks", "postgres"},
        pool="qbo_api",
        description=f"QuickBooks Online {spec.name} (query paging for full loads, CDC for changes and deletes).",
    )
    def _extract(
        context: dg.AssetExecutionContext,
        config: ExtractConfig,
        warehouse: PostgresResource,
        qbo: QboResource,
        settings: SettingsResource,
    ) -> dg.MaterializeResult:
        return _run_extract(context, config, warehouse, settings, qbo.client(warehouse.database_url),
                            qbo_extract.extract_entity, "qbo", spec)

    return _extract


extract_assets = [salesforce_asset(s) for s in SALESFORCE_OBJECTS] + [qbo_asset(e) for e in QBO_ENTITIES]

defs = dg.Definitions(assets=extract_assets)
