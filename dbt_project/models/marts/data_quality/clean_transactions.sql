-- Valid sale lines: the input to RFM.
select * from {{ ref('int_transactions_cleaned') }}
