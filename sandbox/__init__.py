"""Emulators of Salesforce and QuickBooks Online, and a generator of realistic, messy data.

The pipeline must not be able to tell the sandbox from the real services except by URL and
credentials. Where the real API's behaviour is unsure, the sandbox takes the stricter reading
and says so in a comment.
"""
