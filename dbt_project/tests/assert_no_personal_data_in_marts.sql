-- A test of no model would run in the dbt build with no Airflow task to say it failed: it is
-- fct_work_order's (order grain, where personal data would leak first).
-- depends_on: {{ ref('fct_work_order') }}
-- Nothing personal reaches the marts or what BI users read (published, quality): no column for names
-- of people, phones, mobiles, addresses, customer numbers or free text. Names of org units (teams
-- included) and places, and the catalogue's names of indicators, codes and dimensions (*_name_zh /
-- *_name_en), are not personal.
select
    table_schema,
    table_name,
    column_name
from information_schema.columns
where
    table_schema in ('marts', 'published', 'quality')
    and table_name not in ('validation_result', 'publication')  -- the gates' own tables (package-owned)
    and (
        column_name ~ '(phone|mobile|address|content|comment|customer_no|customer_name|staff_name|email)'
        or (
            column_name like '%name%'
            and column_name not in (
                'org_name', 'province_name', 'city_name', 'county_name', 'station_name', 'team_name', 'column_name'
            )
            and column_name !~ '_name_(zh|en)$'
        )
    )
