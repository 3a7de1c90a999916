"""Test machinery shared by the suites: factories, page reading, bulk inserts, the brute-force oracle.

Nothing here is a test; ``tests/<app>/`` and the cross-cutting suites import from here.
"""
