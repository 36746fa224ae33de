{#-
    Sample-ratio-mismatch check of every hashed holdout scope: Pearson chi-square (one
    degree of freedom) of the observed holdout and treatment counts against the counts
    the percentages promise (each profile at the percentage it was drawn with).
    A mismatch (p < var('omniplay__srm_alpha'), default 0.001) means assignment or
    persistence is broken. The geo scope is by region, not random, so it has no check.
-#}
with

assignments as (

    select * from {{ ref('dim_holdout_assignments') }}

),

counts as (

    select
        scope,
        cast(count(*) as {{ dbt.type_bigint() }}) as profiles,
        cast(sum(case when arm = 'holdout' then 1 else 0 end) as {{ dbt.type_bigint() }}) as holdout_profiles,
        cast(sum(case when arm = 'treatment' then 1 else 0 end) as {{ dbt.type_bigint() }}) as treatment_profiles,
        sum(holdout_pct) / 100.0 as expected_holdout_profiles

    from assignments
    where status = 'active'
        and method = 'salted_hash'
    group by scope

),

statistics as (

    select
        *,
        profiles - expected_holdout_profiles as expected_treatment_profiles,
        case
            when expected_holdout_profiles > 0 and profiles - expected_holdout_profiles > 0 then
                (holdout_profiles - expected_holdout_profiles) * (holdout_profiles - expected_holdout_profiles)
                    / expected_holdout_profiles
                + (treatment_profiles - (profiles - expected_holdout_profiles))
                    * (treatment_profiles - (profiles - expected_holdout_profiles))
                    / (profiles - expected_holdout_profiles)
        end as chi_square

    from counts

),

final as (

    select
        scope,
        profiles,
        holdout_profiles,
        treatment_profiles,
        expected_holdout_profiles,
        expected_treatment_profiles,
        case when profiles > 0 then cast(holdout_profiles as {{ omniplay.type_double() }}) / profiles end
            as holdout_share,
        case when profiles > 0 then expected_holdout_profiles / profiles end as expected_holdout_share,
        chi_square,
        {{ omniplay.chi_square_p_value_df1('chi_square') }} as p_value,
        {#- The chi-square (df 1) critical value at alpha 0.001 is 10.828. -#}
        cast({{ var('omniplay__srm_alpha') }} as {{ omniplay.type_double() }}) as alpha,
        case
            when chi_square is null then null
            else {{ omniplay.chi_square_p_value_df1('chi_square') }} < {{ var('omniplay__srm_alpha') }}
        end as is_mismatch

    from statistics

)

select * from final
