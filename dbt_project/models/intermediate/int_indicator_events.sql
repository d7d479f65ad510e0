{{ config(indexes=[{'columns': ['event_date']}]) }}
-- What each order or survey adds to the numerator and denominator of an indicator, on the date that
-- places it in a window: the one definition of which facts feed which indicator. A4 is a state of the
-- transformer areas, not events (see int_outage_warning_periods). Per-10k indicators have no event
-- denominator: theirs is the customer count. A table: five models and eight data tests read it, and as a
-- view each computed it again.
with

orders as (
    select * from {{ ref('int_work_order_facts') }}
    where not is_cancelled
),

surveys as (
    select
        surveys.survey_id,
        surveys.survey_result,
        surveys.survey_time::date as survey_date,
        orders.order_no,
        orders.station_code
    from {{ ref('stg_appeals__callback_surveys') }} as surveys
    -- A survey belongs to its order's station; surveys of cancelled or unknown orders count nowhere.
    inner join orders on surveys.order_no = orders.order_no
),

events as (
    -- A1: fault repair reports, by accept date.
    select
        'A1' as indicator_code,
        station_code,
        accept_date as event_date,
        order_no,
        null::text as survey_id,
        1 as numerator,
        0 as denominator
    from orders
    where order_type = 'fault_repair'

    union all

    -- A2: opinion orders, by accept date.
    select
        'A2' as indicator_code,
        station_code,
        accept_date as event_date,
        order_no,
        null::text as survey_id,
        1 as numerator,
        0 as denominator
    from orders
    where order_type = 'opinion'

    union all

    -- A3: weighted complaints, by accept date.
    select
        'A3' as indicator_code,
        station_code,
        accept_date as event_date,
        order_no,
        null::text as survey_id,
        a3_complaint_points as numerator,
        0 as denominator
    from orders
    where a3_complaint_points > 0

    union all

    -- B1: repeat appeals among all appeals, by accept date.
    select
        'B1' as indicator_code,
        station_code,
        accept_date as event_date,
        order_no,
        null::text as survey_id,
        is_repeat_appeal::integer as numerator,
        1 as denominator
    from orders
    where is_appeal

    union all

    -- B2: unsatisfied among the surveys that reached the customer, by survey date.
    select
        'B2' as indicator_code,
        station_code,
        survey_date as event_date,
        order_no,
        survey_id,
        (survey_result = 'unsatisfied')::integer as numerator,
        1 as denominator
    from surveys
    where survey_result <> 'unreachable'

    union all

    -- B3: returned orders among the finished ones, by finish date.
    select
        'B3' as indicator_code,
        station_code,
        finish_date as event_date,
        order_no,
        null::text as survey_id,
        (return_count >= 1)::integer as numerator,
        1 as denominator
    from orders
    where finish_date is not null

    union all

    -- C1: repairs that missed their arrival deadline among the repairs due, by deadline date.
    select
        'C1' as indicator_code,
        station_code,
        arrival_deadline_date as event_date,
        order_no,
        null::text as survey_id,
        is_arrival_overdue::integer as numerator,
        1 as denominator
    from orders
    where arrival_deadline_date is not null

    union all

    -- C2: non-repair orders not replied by their deadline among those due, by deadline date.
    select
        'C2' as indicator_code,
        station_code,
        deadline_date as event_date,
        order_no,
        null::text as survey_id,
        is_reply_overdue::integer as numerator,
        1 as denominator
    from orders
    where has_reply_deadline

    union all

    -- C3: urges among the orders of the other urgeable types, by accept date.
    select
        'C3' as indicator_code,
        station_code,
        accept_date as event_date,
        order_no,
        null::text as survey_id,
        (order_type = 'urge')::integer as numerator,
        (order_type <> 'urge')::integer as denominator
    from orders
    where order_type not in ('fault_repair', 'praise')
)

select
    indicator_code || ':' || coalesce(survey_id, order_no) as indicator_event_id,
    indicator_code,
    station_code,
    event_date,
    order_no,
    survey_id,
    numerator,
    denominator
from events
