-- Landed marketing rows that failed a check: one row per landed version and reason.
{{ quarantined_rows('org_unit', ref('base_marketing__org_units'), ['org_code']) }}
union all
{{ quarantined_rows('transformer_area', ref('base_marketing__transformer_areas'), ['ta_code']) }}
union all
{{ quarantined_rows('customer', ref('base_marketing__customers'), ['customer_no']) }}
union all
{{ quarantined_rows('team', ref('base_marketing__teams'), ['team_code']) }}
union all
{{ quarantined_rows('staff', ref('base_marketing__staff_members'), ['staff_id']) }}
union all
{{ quarantined_rows('unit_contact', ref('base_marketing__unit_contacts'), ['org_code', 'contact_role']) }}
