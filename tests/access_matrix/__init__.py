"""The access matrix: every route × every role × own / other / missing object (tests/test_access_matrix.py).

``world`` builds the data and states, independently of the application's selectors, who may see and
change what (PRODUCT.md "Access"); ``routes`` discovers the URL patterns; ``policies`` is the table
route -> expected behaviour; ``runner`` sends the requests and compares.
"""
