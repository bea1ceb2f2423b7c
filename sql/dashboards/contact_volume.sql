-- Question: how many contacts did each source get, answer and lose per interval?
-- Parameters: {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (half-open range on interval_start).
-- Grain: one row per (interval_start, source), from `volume_interval` (partitions and tenants summed).
-- offered = contacts offered at the source's ACD: a call the enterprise ACD passes on at once (an
-- enterprise-routed redirect, a full engagement) is offered at the in-house ACD and again at the vendor, so the
-- sources' sum counts it twice and offered - answered - abandoned is what each passed on or still holds. Queue
-- figures (service level, abandonment of queued calls) are `source_metrics`', which counts queue entries.
with

final as (
    select
        interval_start,
        source,
        offered,
        answered,
        abandoned,
        round(abandon_rate, 4) as abandon_rate
    from volume_interval
    where interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
)

select * from final
order by interval_start, source
