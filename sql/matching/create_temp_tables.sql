-- Staging areas for one matching run's results (COPY in, then set-based merges).
create temp table tmp_match_xref (
    sf_account_id text, qb_customer_id text, method text, score double precision,
    decided_by text, decided_at timestamptz, contributions jsonb, note text
) on commit drop;
create temp table tmp_match_review (
    sf_account_id text, qb_customer_id text, score double precision, rank integer, reason text,
    contributions jsonb, sf_name text, qb_name text
) on commit drop;
create temp table tmp_duplicate_review (
    system text, left_id text, right_id text, score double precision, reason text,
    contributions jsonb, left_name text, right_name text
) on commit drop;
create temp table tmp_duplicate_cluster (
    system text, record_id text, cluster_id text, center_id text, is_center boolean,
    score double precision, method text, contributions jsonb
) on commit drop;
create temp table tmp_match_status (
    sf_account_id text, status text, qb_customer_id text, method text, best_score double precision,
    sf_cluster_id text
) on commit drop;
