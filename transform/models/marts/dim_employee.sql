with

employees as (
    select * from {{ ref('stg_employees') }}
),

positions as (
    select * from {{ ref('stg_positions') }}
),

final as (
    select
        employees.employee_id,
        employees.first_name,
        employees.last_name,
        trim(
            {{ dbt.concat(["coalesce(employees.first_name, '')", "' '",
                           "coalesce(employees.last_name, '')"]) }}
        ) as full_name,
        employees.position_id,
        positions.position_title,
        positions.department,
        employees.hired_date,
        employees.updated_at
    from employees
    left join positions
        on employees.position_id = positions.position_id
)

select * from final
