-- Frequent-outage warning periods of each transformer area (A4), merged: the area is in warning on
-- every day from warning_from to warning_to. A tier "at least k outages within W days" holds on day d
-- when the window [d-W+1, d] contains k outages, i.e. from the date of an outage until W-1 days after
-- the (k-1)-th outage before it. Built from outage dates alone, without a dense area x day grid.
with

counted_outages as (
    select
        outages.ta_code,
        outages.outage_id,
        outages.start_time::date as outage_date
    from {{ ref('stg_command__outage_events') }} as outages
    inner join {{ ref('stg_risk_model__outage_types') }} as outage_types
        on outages.outage_type = outage_types.outage_type
    where outage_types.counts_for_warning
),

tier_periods as (
    select
        counted_outages.ta_code,
        counted_outages.outage_date as warning_from,
        lag(counted_outages.outage_date, tiers.min_outages - 1) over (
            partition by counted_outages.ta_code, tiers.tier
            order by counted_outages.outage_date, counted_outages.outage_id
        ) + tiers.window_days - 1 as warning_to
    from counted_outages
    cross join {{ ref('stg_risk_model__outage_warning_tiers') }} as tiers
),

qualifying_periods as (
    select
        ta_code,
        warning_from,
        warning_to
    from tier_periods
    where warning_to >= warning_from
),

-- Gaps and islands: a period that starts after every earlier one has ended (and not the next day)
-- opens a new merged period.
flagged_periods as (
    select
        ta_code,
        warning_from,
        warning_to,
        coalesce(
            warning_from > 1 + max(warning_to) over (
                partition by ta_code
                order by warning_from, warning_to
                rows between unbounded preceding and 1 preceding
            ),
            true
        ) as starts_new_period
    from qualifying_periods
),

numbered_periods as (
    select
        ta_code,
        warning_from,
        warning_to,
        sum(starts_new_period::integer) over (
            partition by ta_code
            order by warning_from, warning_to
            rows unbounded preceding
        ) as period_number
    from flagged_periods
),

merged_periods as (
    select
        ta_code,
        period_number,
        min(warning_from) as warning_from,
        max(warning_to) as warning_to
    from numbered_periods
    group by ta_code, period_number
)

select
    merged_periods.ta_code || ':' || merged_periods.warning_from as warning_period_id,
    merged_periods.ta_code,
    areas.station_code,
    areas.customer_count,
    merged_periods.warning_from,
    merged_periods.warning_to
from merged_periods
-- An outage of an area the marketing system does not know has no customers to count.
inner join {{ ref('stg_marketing__transformer_areas') }} as areas
    on merged_periods.ta_code = areas.ta_code
