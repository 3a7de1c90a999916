"""Imports of CRM exports as users have them (Salesforce, HubSpot): mappings, detection, translation.

See docs/IMPORT-SOURCES.md.  A translation layer in front of ``services.import_file``.
"""
