{# The combined frequency/monetary score 1..4 the named RFM segments use: the mean of f_score and
   m_score, halves rounded up (f=4, m=1 gives 3). Every (f, m) in 1..4 lands in 1..4. #}
{% macro fm_score(f_score, m_score) -%}
    cast(floor(({{ f_score }} + {{ m_score }} + 1) / 2.0) as integer)
{%- endmacro %}
