"""Real-world companies and their records: Salesforce Accounts/Contacts, QBO Customers.

Shares (per company): ~82% in both systems, ~10% only in Salesforce (prospects), ~8% only in
QBO (customers billed without a CRM record). Inside each system a few companies are entered
two or three times with variations; a few Salesforce duplicates were merged (deleted).
About 6% of companies are "siblings" of another: same first word and city, another trade
(the hard negatives a matcher must keep apart).
"""

from __future__ import annotations

from datetime import timedelta

from sandbox.generator import mess
from sandbox.generator.context import CURRENCY_NAMES, Company, Context, between, pick
from sandbox.generator.pools import BRANDS, INDUSTRIES, STREET_TYPES

SUFFIXES = {
    "USD": ("Inc", "Inc.", "LLC", "Corp", "Corporation", "Co", "Company", "", "", "Incorporated"),
    "EUR": ("GmbH", "GmbH", "AG", "S.A.", ""),
    "GBP": ("Ltd", "Limited", "Ltd.", "PLC", ""),
    "CAD": ("Inc", "Ltd", "Corp", "Inc.", ""),
}
TERMS = (("1", "Due on receipt", 0), ("2", "Net 15", 15), ("3", "Net 30", 30), ("4", "Net 60", 60))
TERM_WEIGHTS = (15, 15, 60, 10)


def _pick_location(ctx: Context):
    rng = ctx.rng
    roll = rng.random()
    if roll < 0.85:
        return pick(rng, ctx.pools.us_locations)
    currency = "EUR" if roll < 0.91 else ("GBP" if roll < 0.96 else "CAD")
    return pick(rng, ctx.pools.foreign_locations[currency])


def _stem(ctx: Context, base: str | None) -> tuple[str, str]:
    """(first word(s), full stem without legal suffix)."""
    rng = ctx.rng
    surnames = ctx.pools.surnames
    if base is None:
        pattern = rng.random()
        if pattern < 0.55:
            base = pick(rng, surnames)
        elif pattern < 0.7:
            base = f"{pick(rng, surnames)} & {pick(rng, surnames)}"
        elif pattern < 0.85:
            base = pick(rng, BRANDS)
        else:
            base = f"{pick(rng, surnames)}-{pick(rng, surnames)}"
    industry = pick(rng, INDUSTRIES)
    roll = rng.random()
    if roll < 0.1:
        stem = f"{base} {industry} International"
    elif roll < 0.14:
        stem = f"{base} International"
    elif roll < 0.18:
        stem = f"{base} Brothers {industry}"
    elif roll < 0.22:
        stem = f"{base} {industry} Associates"
    else:
        stem = f"{base} {industry}"
    return base, stem


def make_companies(ctx: Context) -> None:
    rng = ctx.rng
    seen: set[str] = set()
    companies: list[Company] = []
    for index in range(ctx.profile.companies):
        company = Company(index)
        sibling = companies[int(rng.random() * len(companies))] if companies and rng.random() < 0.06 else None
        for attempt in range(50):
            base, stem = _stem(ctx, sibling.stem.split(" ")[0] if sibling and attempt < 10 else None)
            key = mess.slug(stem)
            if attempt > 25:
                stem, key = f"{stem} {pick(rng, BRANDS)}", key + "x"
            if key not in seen:
                break
        seen.add(key)
        company.stem = stem
        if sibling is not None and stem.split(" ")[0] == sibling.stem.split(" ")[0]:
            company.sibling_of = sibling.index
            company.location = sibling.location
        else:
            company.location = _pick_location(ctx)
        company.currency = company.location.currency
        suffix = pick(rng, SUFFIXES[company.currency])
        the = "The " if rng.random() < 0.03 else ""
        company.name = f"{the}{stem} {suffix}".strip()
        company.domain = mess.slug(stem)[:40] + "." + company.location.tld
        company.street_no = between(rng, 1, 9999)
        if company.currency in ("USD",):
            company.street = pick(rng, ctx.pools.street_bases)
        else:
            company.street = pick(rng, ctx.pools.foreign_streets[company.currency])
        company.street_type = pick(rng, STREET_TYPES)
        company.unit = str(pick(rng, (100, 110, 200, 210, 250, 300, 400, 500, 1200))) if rng.random() < 0.35 else None
        if company.location.phone_cc == "1":
            company.phone_area = pick(rng, ctx.pools.area_codes)
            company.phone_local = f"{between(rng, 200, 999)}{between(rng, 0, 9999):04d}"
        else:
            company.phone_area = str(between(rng, 20, 89))
            company.phone_local = str(between(rng, 100000, 99999999))
        roll = rng.random()
        company.in_sf = roll < 0.92
        company.in_qbo = roll >= 0.10
        company.term_id = rng.choices(TERMS, TERM_WEIGHTS)[0][0]
        company.weight = rng.paretovariate(1.6)  # a few big customers buy a lot
        companies.append(company)
    ctx.companies = companies


# --- Salesforce ---------------------------------------------------------------------------

def _sf_street(ctx: Context, company: Company, vary: bool) -> str:
    rng = ctx.rng
    if company.currency == "EUR":
        street = mess.render_de_street(rng, company.street_no, company.street)
    elif company.currency == "USD":
        street = mess.render_us_street(rng, company.street_no, company.street, company.street_type, vary and rng.random() < 0.5)
    else:
        street = f"{company.street_no} {company.street}"
    unit = mess.render_unit(rng, company.unit)
    if unit:
        street = f"{street}\n{unit}" if rng.random() < 0.5 else f"{street}, {unit}"
    return street


def make_accounts(ctx: Context) -> None:
    rng = ctx.rng
    sf = ctx.salesforce
    users = [u["Id"] for u in sf["User"] if u["IsActive"]]
    accounts: list[dict] = []
    contacts: list[dict] = []
    start = ctx.as_of - timedelta(days=1200)
    for company in ctx.companies:
        if not company.in_sf:
            continue
        roll = rng.random()
        copies = 1 + (roll < 0.07) + (roll < 0.015)
        merged = 1 if rng.random() < 0.015 else 0
        owner = pick(rng, users)
        for copy in range(copies + merged):
            deleted = copy >= copies
            name = company.name if copy == 0 and rng.random() < 0.5 else mess.vary_name(rng, company.name, 1 + (copy > 0))
            loc = company.location
            created = ctx.stamp(start + timedelta(days=int(rng.random() * 1100)))
            modified = ctx.stamp(created.date() + timedelta(days=int(rng.random() * 90)))
            account_id = ctx.sf_ids.next("Account")
            country = loc.country if loc.country != "USA" else pick(rng, ("USA", "United States", "US", "USA"))
            accounts.append(
                {
                    "Id": account_id,
                    "Name": name,
                    "BillingStreet": _sf_street(ctx, company, copy > 0),
                    "BillingCity": loc.city,
                    "BillingState": loc.region,
                    "BillingPostalCode": loc.postal if rng.random() > 0.05 else None,
                    "BillingCountry": country if rng.random() > 0.1 else None,
                    "Phone": mess.render_phone(rng, loc.phone_cc, company.phone_area, company.phone_local)
                    if rng.random() > 0.1
                    else None,
                    "Website": mess.render_website(rng, company.domain) if rng.random() > 0.15 else None,
                    "OwnerId": owner if copy == 0 else pick(rng, users),
                    "QBO_Customer_Id__c": None,
                    "CurrencyIsoCode": company.currency,
                    "IsDeleted": deleted,
                    "CreatedDate": created,
                    "LastModifiedDate": modified,
                    "SystemModstamp": modified,
                }
            )
            (company.sf_deleted_accounts if deleted else company.sf_accounts).append(account_id)
            if deleted:
                continue
            for _ in range(pick(rng, (1, 1, 2, 2, 3))):
                first = pick(rng, ctx.pools.first_names)
                last = pick(rng, ctx.pools.surnames)
                local = pick(rng, (f"{first}.{last}", f"{first[0]}{last}", first)).lower().replace(" ", "")
                email = f"{local}@{company.domain}"
                company.contact_emails.append(email)
                c_created = ctx.stamp(created.date() + timedelta(days=int(rng.random() * 60)))
                contacts.append(
                    {
                        "Id": ctx.sf_ids.next("Contact"),
                        "AccountId": account_id,
                        "FirstName": first,
                        "LastName": last,
                        "Email": email if rng.random() > 0.05 else None,
                        "Phone": mess.render_phone(rng, loc.phone_cc, company.phone_area, company.phone_local)
                        if rng.random() < 0.5
                        else None,
                        "OwnerId": owner,
                        "IsDeleted": rng.random() < 0.02,
                        "CreatedDate": c_created,
                        "LastModifiedDate": c_created,
                        "SystemModstamp": c_created,
                    }
                )
    sf["Account"] = accounts
    sf["Contact"] = contacts


# --- QBO ----------------------------------------------------------------------------------

def _bill_addr(ctx: Context, company: Company, name: str, addr_id: str) -> dict:
    rng = ctx.rng
    loc = company.location
    if company.currency == "EUR":
        street = mess.render_de_street(rng, company.street_no, company.street)
    elif company.currency == "USD":
        street = mess.render_us_street(rng, company.street_no, company.street, company.street_type, rng.random() < 0.7)
    else:
        street = f"{company.street_no} {company.street}"
    unit = mess.render_unit(rng, company.unit)
    lines: list[str] = []
    if rng.random() < 0.15:  # bookkeepers often put the company name on the first line
        lines.append(name)
    if unit and rng.random() < 0.5:
        lines.append(f"{street} {unit}" if unit.startswith("#") else f"{street}, {unit}")
    else:
        lines.append(street)
        if unit:
            lines.append(unit)
    addr = {"Id": addr_id}
    for i, line in enumerate(lines, start=1):
        addr[f"Line{i}"] = line
    addr["City"] = loc.city.upper() if rng.random() < 0.05 else loc.city
    addr["CountrySubDivisionCode"] = loc.region
    postal = loc.postal
    if loc.country == "USA" and rng.random() < 0.1:
        postal = f"{postal}-{between(rng, 1000, 9999)}"
    if rng.random() > 0.08:
        addr["PostalCode"] = postal
    country = loc.country if loc.country != "USA" else pick(rng, ("US", "USA", "United States"))
    if rng.random() > 0.1:
        addr["Country"] = country
    return addr


def make_customers(ctx: Context) -> None:
    rng = ctx.rng
    customers: list[dict] = []
    display_names: set[str] = set()
    start = ctx.as_of - timedelta(days=1100)
    addr_ids = 1000
    for company in ctx.companies:
        if not company.in_qbo:
            continue
        roll = rng.random()
        copies = 1 + (roll < 0.05) + (roll < 0.01)
        for copy in range(copies):
            if copy == 0:
                changes = pick(rng, (0, 0, 0, 0, 1, 1, 1, 2, 2, 3))
            else:
                changes = pick(rng, (1, 1, 2))
            name = mess.vary_name(rng, company.name, changes) if changes else company.name
            display = name
            while display.lower() in display_names:  # QBO refuses a second customer with the same name
                display = f"{name} ({pick(rng, ('2', 'old', 'AP', 'billing', 'HQ', between(rng, 3, 99)))})"
            display_names.add(display.lower())
            customer_id = ctx.qbo_ids.next("Customer", start=58)
            addr_ids += 1
            created = ctx.stamp(start + timedelta(days=int(rng.random() * 560)))
            loc = company.location
            customer = {
                "Id": customer_id,
                "SyncToken": "0",
                "MetaData": {"CreateTime": ctx.qbo_time(created), "LastUpdatedTime": ctx.qbo_time(created)},
                "DisplayName": display,
                "FullyQualifiedName": display,
                "PrintOnCheckName": name,
                "Active": True,
                "Taxable": False,
                "Job": False,
                "BillWithParent": False,
                "BillAddr": _bill_addr(ctx, company, name, str(addr_ids)),
                "CurrencyRef": {"value": company.currency, "name": CURRENCY_NAMES[company.currency]},
                "SalesTermRef": {"value": company.term_id},
                "Balance": ctx.cents(0),
                "BalanceWithJobs": ctx.cents(0),
                "PreferredDeliveryMethod": "Email",
                "domain": "QBO",
                "sparse": False,
            }
            if rng.random() > 0.1:
                customer["CompanyName"] = name
            if rng.random() > 0.15:
                customer["PrimaryPhone"] = {
                    "FreeFormNumber": mess.render_phone(rng, loc.phone_cc, company.phone_area, company.phone_local)
                }
            if rng.random() > 0.15:
                if company.contact_emails and rng.random() < 0.4:
                    email = pick(rng, company.contact_emails)
                else:
                    email = f"{pick(rng, ('ap', 'accounts', 'billing', 'invoices', 'finance'))}@{company.domain}"
                customer["PrimaryEmailAddr"] = {"Address": email}
            if rng.random() > 0.3:
                customer["WebAddr"] = {"URI": mess.render_website(rng, company.domain)}
            customers.append(customer)
            company.qb_customers.append(customer_id)
    ctx.qbo["Customer"] = customers
    # Accounts someone already linked by hand (the primary record of each side).
    accounts = {a["Id"]: a for a in ctx.salesforce["Account"]}
    for company in ctx.companies:
        if company.sf_accounts and company.qb_customers and rng.random() < 0.4:
            accounts[company.sf_accounts[0]]["QBO_Customer_Id__c"] = company.qb_customers[0]


def make_terms(ctx: Context) -> None:
    created = ctx.qbo_time(ctx.stamp(ctx.as_of - timedelta(days=1500)))
    ctx.qbo["Term"] = [
        {
            "Id": term_id,
            "SyncToken": "0",
            "MetaData": {"CreateTime": created, "LastUpdatedTime": created},
            "Name": name,
            "Active": True,
            "Type": "STANDARD",
            "DueDays": days,
            "DiscountPercent": 0,
            "domain": "QBO",
            "sparse": False,
        }
        for term_id, name, days in TERMS
    ]


TERM_DAYS = {term_id: days for term_id, _, days in TERMS}


def customer_of_account(ctx: Context) -> dict[str, list[str]]:
    """SF Account Id -> every QBO customer of the same company (the one billed first)."""
    return {
        account: list(company.qb_customers)
        for company in ctx.companies
        if company.qb_customers
        for account in company.sf_accounts
    }


def fill_truth_links(ctx: Context, truth) -> None:
    for company in ctx.companies:
        for account in company.sf_accounts:
            for customer in company.qb_customers:
                truth.customer_links.append((account, customer))
        if len(company.sf_accounts) > 1:
            truth.sf_duplicate_clusters.append(list(company.sf_accounts))
        if len(company.qb_customers) > 1:
            truth.qb_duplicate_clusters.append(list(company.qb_customers))
