{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='risk_date',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['risk_date']}],
    )
}}
-- Per station, day and indicator: the numerator and denominator over the indicator's window
-- [d-W+1, d]. Window sums are differences of running sums over a dense station x day grid, so each
-- day costs the same whatever W is. Incremental: only the days of risk_date_range are (re)computed,
-- reading W-1 days before them; every row records the landing batches its build reflects.
with

date_range as (
    {{ risk_date_range() }}
),

indicators as (
    select * from {{ ref('stg_risk_model__indicators') }}
),

read_range as (
    select
        date_range.date_from,
        date_range.date_to,
        date_range.date_from - (select max(indicators.window_days) from indicators) + 1 as read_from
    from date_range
),

days as (
    select generate_series(read_range.read_from, read_range.date_to, interval '1 day')::date as event_date
    from read_range
),

stations as (
    select
        org_code as station_code,
        coalesce(customer_count, 0) as customer_count
    from {{ ref('stg_marketing__org_units') }}
    where org_level = 'station'
),

event_counts as (
    select
        events.station_code,
        events.indicator_code,
        events.event_date,
        sum(events.numerator) as numerator,
        sum(events.denominator) as denominator
    from {{ ref('int_indicator_events') }} as events
    inner join read_range on events.event_date between read_range.read_from and read_range.date_to
    group by events.station_code, events.indicator_code, events.event_date
),

-- A4 is the state of the day: the customers of the station's areas in outage warning.
warning_counts as (
    select
        periods.station_code,
        'A4' as indicator_code,
        days.event_date,
        sum(periods.customer_count) as numerator,
        0 as denominator
    from days
    inner join {{ ref('int_outage_warning_periods') }} as periods
        on days.event_date between periods.warning_from and periods.warning_to
    group by periods.station_code, days.event_date
),

daily_counts as (
    select * from event_counts
    union all
    select * from warning_counts
),

dense as (
    select
        stations.station_code,
        stations.customer_count,
        indicators.indicator_code,
        indicators.measure_kind,
        indicators.window_days,
        days.event_date,
        coalesce(daily_counts.numerator, 0) as numerator,
        coalesce(daily_counts.denominator, 0) as denominator
    from stations
    cross join indicators
    cross join days
    left join daily_counts
        on
            stations.station_code = daily_counts.station_code
            and indicators.indicator_code = daily_counts.indicator_code
            and days.event_date = daily_counts.event_date
),

running as (
    select
        *,
        sum(numerator) over station_indicator as running_numerator,
        sum(denominator) over station_indicator as running_denominator
    from dense
    window station_indicator as (
        partition by station_code, indicator_code order by event_date rows unbounded preceding
    )
),

windowed as (
    select
        station_code,
        customer_count,
        indicator_code,
        measure_kind,
        event_date as risk_date,
        running_numerator - coalesce(lag(running_numerator, window_days) over station_indicator, 0)
            as numerator,
        running_denominator - coalesce(lag(running_denominator, window_days) over station_indicator, 0)
            as denominator
    from running
    window station_indicator as (partition by station_code, indicator_code order by event_date)
)

select
    windowed.station_code || ':' || windowed.indicator_code || ':' || windowed.risk_date
        as station_indicator_day_id,
    windowed.risk_date,
    windowed.station_code,
    windowed.indicator_code,
    windowed.numerator::numeric as numerator,
    -- Per-10k indicators divide by the station's customers, which sum up the hierarchy like counts.
    case
        when windowed.measure_kind = 'per_10k' then windowed.customer_count
        else windowed.denominator
    end::numeric as denominator,
    {{ selected_model_version() }}::text as model_version,
    date_range.built_from_high_water,
    date_range.landed_high_water,
    date_range.built_at
from windowed
inner join date_range on windowed.risk_date between date_range.date_from and date_range.date_to
