"""`generate(profile, seed, as_of)`: a reproducible, messy pair of systems and its ground truth."""

from __future__ import annotations

import gc
import random
from datetime import date

from sandbox.dataset import Dataset, GroundTruth
from sandbox.generator import billing, companies, sales
from sandbox.generator.context import PROFILES, Context
from sandbox.generator.pools import build_pools
from sandbox.generator.truth import ground_truth_reconciliation


def generate(profile: str = "small", seed: int = 0, as_of: date | None = None) -> Dataset:
    """Generate both systems' data for `profile` (tiny, small, medium, large).

    Same profile, seed and as_of give an identical dataset. `as_of` defaults to today; close
    dates, invoice dates and aging are relative to it. Besides `dataset.truth`, the dataset
    gets an `extras` dict: `intended_reconciliation` (the category each case was built to
    produce), `customer_of_account` (SF Account Id -> the QBO customers of the same company, the
    one invoices go to first),
    `amount_line_mismatch_opportunity_ids` (opportunities whose Amount deliberately differs
    from the sum of their line items) and `profile`/`seed`.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown sandbox profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    # Millions of small dicts and no reference cycles: the cyclic collector would re-scan the
    # growing heap again and again (a third of the large profile's time) for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(PROFILES[profile], seed, as_of)
    finally:
        if was_enabled:
            gc.enable()


def _generate(spec, seed: int, as_of: date | None) -> Dataset:
    profile = spec.name
    as_of = as_of or date.today()
    rng = random.Random(f"ledgerlink-sandbox:{profile}:{seed}")
    ctx = Context(spec, seed, as_of, rng, build_pools(seed, spec.pool_size))

    companies.make_companies(ctx)
    sales.make_users(ctx)
    companies.make_accounts(ctx)
    companies.make_terms(ctx)
    companies.make_customers(ctx)
    sales.make_products(ctx)
    sales.make_opportunities(ctx)
    intended = billing.make_billing(ctx)

    truth = GroundTruth()
    companies.fill_truth_links(ctx, truth)
    dataset = Dataset(salesforce=ctx.salesforce, qbo=ctx.qbo, truth=truth, as_of=as_of)
    customer_of_account = companies.customer_of_account(ctx)
    truth.reconciliation = ground_truth_reconciliation(dataset, customer_of_account)
    dataset.extras = {
        "profile": profile,
        "seed": seed,
        "intended_reconciliation": intended,
        "customer_of_account": customer_of_account,
        **ctx.extras,
    }
    return dataset
