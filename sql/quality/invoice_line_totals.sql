-- Live QBO invoices: TotalAmt against what their lines add up to.
-- QBO computes TotalAmt = sales lines (and group lines) - discount lines + tax; SubTotal lines
-- are not stored in staging and DescriptionOnly lines carry no amount. Tax is not a line: it
-- comes from TxnTaxDetail.TotalTax in the raw record. Voided invoices have zeroed lines and a
-- zero total, so they add up. One row per invoice; `difference` = total_amt - line total.
select i.id                                        as invoice_id,
       i.doc_number,
       i.currency,
       i.total_amt,
       coalesce(l.line_count, 0)                   as line_count,
       coalesce(l.line_total, 0) + coalesce((i.raw -> 'TxnTaxDetail' ->> 'TotalTax')::numeric, 0)
                                                   as line_total,
       i.total_amt - coalesce(l.line_total, 0)
           - coalesce((i.raw -> 'TxnTaxDetail' ->> 'TotalTax')::numeric, 0)
                                                   as difference
from staging.qb_invoice i
left join (
    select parent_id,
           count(*) as line_count,
           sum(case detail_type
                   when 'SalesItemLineDetail' then amount
                   when 'GroupLineDetail' then amount
                   when 'DiscountLineDetail' then -amount
                   else 0
               end) as line_total
    from staging.qb_invoice_line
    where not _deleted
    group by parent_id
) l on l.parent_id = i.id
where not i._deleted
