-- Nothing personal reaches the marts: no column for names (other than org unit names), phones,
-- mobiles, addresses, customer numbers or free text.
select
    table_name,
    column_name
from information_schema.columns
where
    table_schema = 'marts'
    and (
        column_name ~ '(phone|mobile|address|content|comment|customer_no|customer_name|staff_name|email)'
        or (column_name like '%name%' and column_name not in ('org_name', 'province_name', 'city_name', 'county_name'))
    )
