{# A customer at least as good as another on all of R, F and M never gets a worse tier.
   Checked over score combinations (at most 64), so it scales to any number of customers;
   scores_monotonic_in_values carries it over from scores to values. #}
{% test tiers_monotonic_in_scores(model) %}
with combos as (
    select r_score, f_score, m_score, min(tier_rank) as worst_rank, max(tier_rank) as best_rank
    from {{ model }}
    group by 1, 2, 3
)
select better.*, worse.best_rank as dominated_best_rank
from combos as better
join combos as worse
    on better.r_score >= worse.r_score
    and better.f_score >= worse.f_score
    and better.m_score >= worse.m_score
where better.worst_rank < worse.best_rank
{% endtest %}
