"""Salesforce sales data: Users, Product2, the standard Pricebook, Opportunities and line items.

Each Closed Won opportunity gets a billing plan here (the reconciliation category the billing
stage is to produce), because some plans need a particular shape: a currency other than the
customer's for CURRENCY_DIFFERENCE, two or more line items for PARTIALLY_INVOICED.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.reconcile.rules import DEFAULT_RATES
from sandbox.generator.context import HISTORY_DAYS, Context, between, pick

PRODUCT_KINDS = (
    # (name, family, code, USD list prices per tier)
    ("Platform License", "Software", "PLT", (1200, 4800, 12000)),
    ("Analytics Add-on", "Software", "ANA", (600, 2400)),
    ("API Access", "Software", "API", (900, 3000)),
    ("User Seat", "Software", "SEAT", (35, 60, 95)),
    ("Implementation Services", "Services", "IMP", (1500, 1800)),
    ("Onboarding Package", "Services", "ONB", (2500, 5000)),
    ("Training Workshop", "Services", "TRN", (750, 1400)),
    ("Data Migration", "Services", "MIG", (3000, 7500)),
    ("Premium Support", "Support", "SUP", (1800, 4200, 9000)),
    ("Gateway Device", "Hardware", "GW", (349, 649)),
    ("Sensor Kit", "Hardware", "SNS", (129, 249, 499)),
    ("Installation Visit", "Services", "INS", (450,)),
)
TIERS = ("Standard", "Professional", "Enterprise")
OPEN_STAGES = (("Prospecting", 10), ("Qualification", 20), ("Proposal", 50), ("Negotiation", 75))
PLAN_CATEGORIES = (
    "MATCHED", "TIMING_DIFFERENCE", "AMOUNT_MISMATCH", "PARTIALLY_INVOICED", "CREDITED",
    "DUPLICATE_INVOICE", "VOIDED_OR_DELETED", "VOIDED_REISSUED", "CUSTOMER_MISMATCH",
    "CURRENCY_DIFFERENCE", "NOT_INVOICED",
)
OLD_WEIGHTS = (60, 8, 5, 4, 5, 3, 2, 2, 3, 4, 4)
RECENT_WEIGHTS = (14, 0, 1, 0, 0, 1, 0, 0, 0, 0, 84)
RECENT_DAYS = 60
CURRENCIES = ("USD", "EUR", "GBP", "CAD")
# A plan that leaves the customer's currency must come before CURRENCY_DIFFERENCE in the rules.
_BEATS_CURRENCY = {"NOT_INVOICED", "VOIDED_OR_DELETED", "DUPLICATE_INVOICE", "CUSTOMER_MISMATCH"}


def make_users(ctx: Context) -> None:
    rng = ctx.rng
    users = []
    for n in range(ctx.profile.users):
        first, last = pick(rng, ctx.pools.first_names), pick(rng, ctx.pools.surnames)
        created = ctx.stamp(ctx.as_of - timedelta(days=1500 - n))
        users.append(
            {
                "Id": ctx.sf_ids.next("User"),
                "Name": f"{first} {last}",
                "FirstName": first,
                "LastName": last,
                "Email": f"{first}.{last}@northpeak-sales.example".lower(),
                "Username": f"{first}.{last}.{n}@northpeak-sales.example".lower(),
                # Users cannot be deleted in Salesforce, only deactivated.
                "IsActive": n != 1 or ctx.profile.users < 3,
                "IsDeleted": False,
                "CreatedDate": created,
                "LastModifiedDate": created,
                "SystemModstamp": created,
            }
        )
    ctx.salesforce["User"] = users


def _nice_price(usd: int, currency: str) -> Decimal:
    """List price in another currency, rounded to a whole unit as price lists are."""
    value = (Decimal(usd) / DEFAULT_RATES[currency]).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return value.quantize(Decimal("0.01"))


def make_products(ctx: Context) -> None:
    catalogue = [
        (f"{kind} - {TIERS[t]}" if len(prices) > 1 else kind, family, f"{code}-{TIERS[t][:3].upper()}", price)
        for kind, family, code, prices in PRODUCT_KINDS
        for t, price in enumerate(prices)
    ]
    products, entries = [], []
    created = ctx.stamp(ctx.as_of - timedelta(days=1400))
    pricebook_id = ctx.sf_ids.next("Pricebook2")
    ctx.salesforce["Pricebook2"] = [
        {
            "Id": pricebook_id,
            "Name": "Standard Price Book",
            "IsStandard": True,
            "IsActive": True,
            "IsDeleted": False,
            "CreatedDate": created,
            "LastModifiedDate": created,
            "SystemModstamp": created,
        }
    ]
    count = ctx.profile.products
    for n in range(count):
        name, family, code, usd = catalogue[n % len(catalogue)]
        if n >= len(catalogue):  # larger catalogues: regional / versioned variants
            generation = n // len(catalogue) + 1
            name, code = f"{name} v{generation}", f"{code}-V{generation}"
            usd = int(usd * (1 + generation / 10))
        deleted = n == count - 1 and count > 5
        product_id = ctx.sf_ids.next("Product2")
        products.append(
            {
                "Id": product_id,
                "Name": name,
                "ProductCode": code,
                "Family": family,
                "IsActive": not deleted and n != count - 2,
                "Description": None,
                "IsDeleted": deleted,
                "CreatedDate": created,
                "LastModifiedDate": created,
                "SystemModstamp": created,
            }
        )
        for currency in CURRENCIES:
            entries.append(
                {
                    "Id": ctx.sf_ids.next("PricebookEntry"),
                    "Name": name,
                    "Product2Id": product_id,
                    "Pricebook2Id": pricebook_id,
                    "ProductCode": code,
                    "UnitPrice": _nice_price(usd, currency),
                    "CurrencyIsoCode": currency,
                    "IsActive": True,
                    "UseStandardPrice": False,
                    "IsDeleted": deleted,
                    "CreatedDate": created,
                    "LastModifiedDate": created,
                    "SystemModstamp": created,
                }
            )
    ctx.salesforce["Product2"] = products
    ctx.salesforce["PricebookEntry"] = entries


def _choose_plan(ctx: Context, age_days: int, forced: list[str]) -> str:
    if forced and age_days >= 45:
        return forced.pop()
    weights = RECENT_WEIGHTS if age_days < RECENT_DAYS else OLD_WEIGHTS
    return ctx.rng.choices(PLAN_CATEGORIES, weights)[0]


def make_opportunities(ctx: Context) -> None:
    rng = ctx.rng
    sf = ctx.salesforce
    as_of = ctx.as_of
    users = [u["Id"] for u in sf["User"] if u["IsActive"]]
    products = [p for p in sf["Product2"] if p["IsActive"] and not p["IsDeleted"]]
    entry_of = {(e["Product2Id"], e["CurrencyIsoCode"]): e for e in sf["PricebookEntry"]}
    accounts = {a["Id"]: a for a in sf["Account"]}
    buyers = [c for c in ctx.companies if c.sf_accounts]
    weights = [c.weight for c in buyers]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    # Make sure even a small dataset shows every case once (popped from the end).
    forced = list(reversed(PLAN_CATEGORIES))
    opportunities, items = [], []
    plans = ctx.plans
    cents = ctx.cents
    pricebook_id = sf["Pricebook2"][0]["Id"]
    for _ in range(ctx.profile.opportunities):
        company = rng.choices(buyers, cum_weights=cumulative)[0]
        account_id = company.sf_accounts[0] if rng.random() < 0.85 else pick(rng, company.sf_accounts)
        account_name = accounts[account_id]["Name"]
        roll = rng.random()
        deleted = rng.random() < 0.006
        if roll < 0.36:
            stage, probability, won, closed = "Closed Won", 100, True, True
        elif roll < 0.6:
            stage, probability, won, closed = "Closed Lost", 0, False, True
        else:
            stage, probability = pick(rng, OPEN_STAGES)
            won, closed = False, False
        if closed:
            close_date = as_of - timedelta(days=int(rng.random() ** 0.9 * HISTORY_DAYS))
        else:
            close_date = as_of + timedelta(days=between(rng, -10, 120))
        currency = company.currency
        plan = None
        if won and not deleted and company.qb_customers:
            plan = _choose_plan(ctx, (as_of - close_date).days, forced)
            if plan == "CURRENCY_DIFFERENCE":
                currency = pick(rng, [c for c in CURRENCIES if c != company.currency])
        if plan != "CURRENCY_DIFFERENCE" and rng.random() < 0.04:
            currency = pick(rng, CURRENCIES)  # quoted in the buyer's preferred currency
            if plan and plan not in _BEATS_CURRENCY and currency != company.currency:
                plan = "CURRENCY_DIFFERENCE"
        n_lines = rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0]
        if plan == "PARTIALLY_INVOICED":
            n_lines = max(n_lines, 2)
        created = ctx.stamp(close_date - timedelta(days=between(rng, 7, 150)))
        if closed:
            modified = ctx.stamp(close_date + timedelta(days=between(rng, 0, 3)))
        else:
            modified = ctx.stamp(created.date() + timedelta(days=between(rng, 0, max(1, (as_of - created.date()).days))))
        if modified < created:
            modified = created
        opp_id = ctx.sf_ids.next("Opportunity")
        chosen = rng.sample(products, n_lines)
        amount_cents = 0
        for product in chosen:
            entry = entry_of[(product["Id"], currency)]
            list_cents = int(entry["UnitPrice"] * 100)
            if rng.random() < 0.15:
                unit_cents = int(list_cents * (100 - pick(rng, (5, 10, 12.5, 15, 20))) / 100)
            else:
                unit_cents = list_cents
            quantity = pick(rng, (1, 1, 1, 2, 3, 5, 10, 12, 20, 25, 50)) if product["Family"] != "Services" else between(rng, 1, 12)
            total_cents = unit_cents * quantity
            amount_cents += total_cents
            items.append(
                {
                    "Id": ctx.sf_ids.next("OpportunityLineItem"),
                    "OpportunityId": opp_id,
                    "PricebookEntryId": entry["Id"],
                    "Product2Id": product["Id"],
                    "ProductCode": product["ProductCode"],
                    "Name": product["Name"],
                    "Quantity": cents(quantity * 100),
                    "UnitPrice": cents(unit_cents),
                    "ListPrice": entry["UnitPrice"],
                    "TotalPrice": cents(total_cents),
                    "ServiceDate": close_date if rng.random() < 0.3 else None,
                    "CurrencyIsoCode": currency,
                    "IsDeleted": deleted,
                    "CreatedDate": created,
                    "LastModifiedDate": modified,
                    "SystemModstamp": modified,
                }
            )
        if not closed and not deleted and rng.random() < 0.02:
            # A line someone removed again: deleted, and no longer part of the amount.
            product = pick(rng, products)
            entry = entry_of[(product["Id"], currency)]
            items.append(
                {
                    "Id": ctx.sf_ids.next("OpportunityLineItem"),
                    "OpportunityId": opp_id,
                    "PricebookEntryId": entry["Id"],
                    "Product2Id": product["Id"],
                    "ProductCode": product["ProductCode"],
                    "Name": product["Name"],
                    "Quantity": cents(100),
                    "UnitPrice": entry["UnitPrice"],
                    "ListPrice": entry["UnitPrice"],
                    "TotalPrice": entry["UnitPrice"],
                    "ServiceDate": None,
                    "CurrencyIsoCode": currency,
                    "IsDeleted": True,
                    "CreatedDate": created,
                    "LastModifiedDate": modified,
                    "SystemModstamp": modified,
                }
            )
        short = account_name.split(",")[0]
        kind = pick(rng, ("", "", " - Renewal", " - Expansion", " - New Business", f" - {chosen[0]['Name']}"))
        opportunities.append(
            {
                "Id": opp_id,
                "Name": f"{short}{kind or ' - ' + chosen[0]['Name']}",
                "AccountId": account_id,
                "OwnerId": accounts[account_id]["OwnerId"] if rng.random() < 0.8 else pick(rng, users),
                "StageName": stage,
                "Probability": probability,
                "IsWon": won,
                "IsClosed": closed,
                "CloseDate": close_date,
                "Amount": cents(amount_cents),
                "CurrencyIsoCode": currency,
                "Pricebook2Id": pricebook_id,
                "QBO_Invoice_Id__c": None,
                "IsDeleted": deleted,
                "CreatedDate": created,
                "LastModifiedDate": modified,
                "SystemModstamp": modified,
            }
        )
        if plan:
            plans[opp_id] = plan
    sf["Opportunity"] = opportunities
    sf["OpportunityLineItem"] = items
