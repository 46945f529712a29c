{# Agreement between two labelings of the same customers, from their contingency table:
   adjusted Rand index and normalised mutual information (arithmetic mean, as scikit-learn's
   defaults) and Cramer's V (no bias correction). Each is 1 for identical partitions.
   Sums of fractions are exact decimals so that a rebuild gives identical digits. #}
{% macro agreement_metrics(relation, label_a, label_b) -%}
with cells as (
    select {{ label_a }} as a, {{ label_b }} as b, cast(count(*) as double) as n_ab
    from {{ relation }}
    group by 1, 2
),

rows_a as (select a, sum(n_ab) as n_a from cells group by 1),
rows_b as (select b, sum(n_ab) as n_b from cells group by 1),
total as (select sum(n_ab) as n from cells),

-- each sum in its own CTE, the total joined in (Spark takes no correlated aggregate subqueries)
sums_a as (
    select count(*) as levels_a, sum(n_a * (n_a - 1) / 2) as pairs_a,
        {{ exact_sum('-(n_a / total.n) * ln(n_a / total.n)') }} as entropy_a
    from rows_a
    cross join total
),

sums_b as (
    select count(*) as levels_b, sum(n_b * (n_b - 1) / 2) as pairs_b,
        {{ exact_sum('-(n_b / total.n) * ln(n_b / total.n)') }} as entropy_b
    from rows_b
    cross join total
),

sums_ab as (
    select
        sum(cells.n_ab * (cells.n_ab - 1) / 2) as pairs_ab,
        {{ exact_sum('(cells.n_ab / total.n) * ln(total.n * cells.n_ab / (rows_a.n_a * rows_b.n_b))') }} as mutual_information,
        {{ exact_sum('cells.n_ab * cells.n_ab / (rows_a.n_a * rows_b.n_b)') }} as chi_square_ratio
    from cells
    join rows_a on cells.a = rows_a.a
    join rows_b on cells.b = rows_b.b
    cross join total
),

sums as (
    select
        total.n,
        sums_a.levels_a,
        sums_b.levels_b,
        sums_ab.pairs_ab,
        sums_a.pairs_a,
        sums_b.pairs_b,
        sums_a.entropy_a,
        sums_b.entropy_b,
        sums_ab.mutual_information,
        sums_ab.chi_square_ratio
    from total
    cross join sums_a
    cross join sums_b
    cross join sums_ab
),

expected as (
    select
        *,
        pairs_a * pairs_b / nullif(n * (n - 1) / 2, 0) as expected_pairs,
        (pairs_a + pairs_b) / 2 as max_pairs
    from sums
)

select
    cast(n as bigint) as customers,
    cast(case
        when max_pairs = expected_pairs then 1.0
        else (pairs_ab - expected_pairs) / (max_pairs - expected_pairs)
    end as double) as adjusted_rand_index,
    cast(case
        when entropy_a + entropy_b = 0 then 1.0
        else greatest(mutual_information, 0) / ((entropy_a + entropy_b) / 2)
    end as double) as normalized_mutual_information,
    cast(case
        when least(levels_a, levels_b) < 2 then null
        else sqrt(greatest(chi_square_ratio - 1, 0) / (least(levels_a, levels_b) - 1))
    end as double) as cramers_v
from expected
{%- endmacro %}
