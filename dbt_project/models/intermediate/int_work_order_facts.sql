-- One row per valid work order with everything the indicators ask of it: appeal and repeat flags
-- (B1), the repair arrival deadline and whether it was missed (C1), the reply deadline outcome (C2),
-- the A3 complaint weight and the override trigger. Rebuilt in full: orders change for days after
-- they are accepted.
with

-- Only the columns used here: the staging view then skips hashing and masking the rest.
orders as (
    select
        order_no,
        station_code,
        ta_code,
        channel,
        order_type,
        category,
        complaint_level,
        order_status,
        customer_no,
        caller_phone_hash,
        parent_order_no,
        handler_team_code,
        handler_staff_id,
        accept_time,
        deadline_time,
        reply_time,
        finish_time,
        return_count
    from {{ ref('stg_appeals__work_orders') }}
),

parameters as (
    select * from {{ ref('stg_risk_model__parameters') }}
),

stations as (
    select
        org_code as station_code,
        area_type
    from {{ ref('stg_marketing__org_units') }}
    where org_level = 'station'
),

arrival_limits as (
    select * from {{ ref('stg_risk_model__repair_arrival_limits') }}
),

-- An order with several repair tasks arrived at the earliest arrival.
arrivals as (
    select
        order_no,
        count(*) as repair_task_count,
        min(arrive_time) as first_arrive_time
    from {{ ref('stg_command__repair_tasks') }}
    group by order_no
),

classified as (
    select
        orders.*,
        orders.order_status = 'cancelled' as is_cancelled,
        orders.order_type <> 'praise' and orders.order_status <> 'cancelled' as is_appeal,
        orders.order_type = 'complaint' and orders.complaint_level in ('special', 'major') as is_severe_complaint,
        -- The appellant: the customer, or the caller's phone where the customer is unknown.
        coalesce('customer:' || orders.customer_no, 'phone:' || orders.caller_phone_hash) as appellant_key
    from orders
),

-- The appellant's previous appeal of the same category at the same station.
previous_appeals as (
    select
        order_no,
        lag(accept_time) over (
            partition by station_code, appellant_key, category
            order by accept_time, order_no
        ) as previous_appeal_time
    from classified
    where is_appeal and appellant_key is not null
),

enriched as (
    select
        classified.*,
        previous_appeals.previous_appeal_time,
        coalesce(arrivals.repair_task_count, 0) as repair_task_count,
        arrivals.first_arrive_time,
        case
            when classified.order_type = 'fault_repair' and not classified.is_cancelled
                then classified.accept_time + make_interval(mins => arrival_limits.arrival_limit_minutes)
        end as arrival_deadline,
        case
            when classified.order_type = 'fault_repair'
                then make_interval(hours => parameters.repeat_window_hours_fault_repair)
            else make_interval(hours => parameters.repeat_window_hours)
        end as repeat_window,
        not classified.is_cancelled
        and classified.order_type not in ('fault_repair', 'praise')
        and classified.deadline_time is not null as has_reply_deadline,
        parameters.a3_complaint_weight,
        parameters.a3_escalated_channel_weight,
        parameters.a3_severe_complaint_weight
    from classified
    cross join parameters
    left join previous_appeals on classified.order_no = previous_appeals.order_no
    left join arrivals on classified.order_no = arrivals.order_no
    left join stations on classified.station_code = stations.station_code
    left join arrival_limits on stations.area_type = arrival_limits.area_type
)

select
    order_no,
    station_code,
    ta_code,
    channel,
    order_type,
    category,
    complaint_level,
    order_status,
    customer_no,
    appellant_key,
    parent_order_no,
    handler_team_code,
    handler_staff_id,
    accept_time,
    accept_time::date as accept_date,
    deadline_time,
    deadline_time::date as deadline_date,
    reply_time,
    finish_time,
    finish_time::date as finish_date,
    return_count,
    is_cancelled,
    is_appeal,
    is_severe_complaint,
    previous_appeal_time,
    coalesce(is_appeal and accept_time - previous_appeal_time <= repeat_window, false) as is_repeat_appeal,
    repair_task_count,
    first_arrive_time,
    arrival_deadline,
    arrival_deadline::date as arrival_deadline_date,
    coalesce(
        arrival_deadline is not null and (first_arrive_time is null or first_arrive_time > arrival_deadline),
        false
    ) as is_arrival_overdue,
    -- C2 covers non-repair orders with a deadline; one without a reply by its deadline is overdue.
    has_reply_deadline,
    has_reply_deadline and (reply_time is null or reply_time > deadline_time) as is_reply_overdue,
    case
        when is_cancelled then 0
        else
            a3_complaint_weight * (order_type in ('complaint', 'report'))::integer
            + a3_escalated_channel_weight * (channel in ('12398', '12345'))::integer
            + a3_severe_complaint_weight * is_severe_complaint::integer
    end as a3_complaint_points,
    not is_cancelled and (is_severe_complaint or channel = '12398') as is_override_trigger
from enriched
