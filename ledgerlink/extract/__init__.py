"""Extract: Salesforce (Bulk API 2.0) and QuickBooks Online (query / CDC) into `staging.*`."""
