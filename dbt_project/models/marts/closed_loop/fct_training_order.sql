-- Targeted training, the orders behind each weak indicator: the orders that add to its numerator
-- (int_indicator_events, the one definition of which order feeds which indicator) at the unit's
-- stations (a county company's: all of its stations) in the months the weak points were found in,
-- traced to the team and staff member who handled them. A4 is a state of the areas: no orders.
with

weak as (
    select * from {{ ref('fct_training_weak_indicator') }}
),

plans as (
    select * from {{ ref('fct_training_plan_unit') }}
),

unit_stations as (
    select
        org_code as station_code,
        org_code as unit_code
    from {{ ref('dim_org_unit') }}
    where org_level = 'station'
    union all
    select
        org_code,
        county_code
    from {{ ref('dim_org_unit') }}
    where org_level = 'station' and county_code is not null
),

behind as (
    select distinct
        weak.training_plan_id,
        weak.indicator_code,
        events.order_no
    from weak
    inner join plans on weak.training_plan_id = plans.training_plan_id
    inner join unit_stations on plans.org_code = unit_stations.unit_code
    inner join {{ ref('int_indicator_events') }} as events
        on
            unit_stations.station_code = events.station_code
            and weak.indicator_code = events.indicator_code
            and events.event_date between plans.history_from and plans.history_to
    where events.numerator > 0
)

select
    behind.training_plan_id || ':' || behind.indicator_code || ':' || behind.order_no as training_order_id,
    behind.training_plan_id,
    behind.indicator_code,
    behind.order_no,
    orders.station_code,
    orders.handler_team_code,
    orders.handler_staff_id,
    {{ selected_model_version() }}::text as model_version
from behind
inner join {{ ref('fct_work_order') }} as orders on behind.order_no = orders.order_no
