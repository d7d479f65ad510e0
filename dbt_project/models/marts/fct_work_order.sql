-- One row per valid work order, without personal data: what it is, where it belongs, its times and
-- the flags that put it into the numerators and denominators of the indicators, so that any score can
-- be traced to the orders behind it (int_indicator_events has the date that places it in a window).
select
    orders.order_no,
    orders.station_code,
    units.county_code,
    units.city_code,
    orders.ta_code,
    orders.channel,
    orders.order_type,
    orders.category,
    orders.complaint_level,
    orders.order_status,
    orders.parent_order_no,
    orders.handler_team_code,
    orders.handler_staff_id,
    orders.accept_time,
    orders.accept_date,
    orders.deadline_time,
    orders.reply_time,
    orders.finish_time,
    orders.return_count,
    orders.is_cancelled,
    orders.is_appeal,
    orders.is_repeat_appeal,
    orders.previous_appeal_time,
    orders.is_severe_complaint,
    orders.repair_task_count,
    orders.first_arrive_time,
    orders.arrival_deadline,
    orders.is_arrival_overdue,
    orders.has_reply_deadline,
    orders.is_reply_overdue,
    orders.a3_complaint_points,
    orders.is_override_trigger
from {{ ref('int_work_order_facts') }} as orders
inner join {{ ref('dim_org_unit') }} as units on orders.station_code = units.org_code
