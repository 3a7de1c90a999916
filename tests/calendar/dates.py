"""The instants at which ``make test-calendar`` runs the suites whose results depend on "today".

Each is chosen for a boundary a period, a comparison or a time zone can get wrong; the pods of the
tests and of the demo sit in New York, Berlin, Sydney and UTC.
"""

FROZEN_INSTANTS = {
    # 1 March 00:30 in New York, still 28 February in Los Angeles, 1 March 16:30 in Sydney.
    "first-of-month": "2027-03-01T05:30:00+00:00",
    # 30 June 23:00 UTC: the last day of Q2 in New York, already 1 July (Q3) in Berlin and Sydney.
    "last-day-of-quarter": "2027-06-30T23:00:00+00:00",
    "new-year": "2027-01-01T12:00:00+00:00",
    "leap-day": "2028-02-29T12:00:00+00:00",
    # US clocks spring forward at 2:00 on 14 March 2027: 07:30 UTC is 3:30 EDT.
    "us-dst-change": "2027-03-14T07:30:00+00:00",
    # Australian clocks fall back from 3:00 to 2:00 on Sunday 4 April 2027 (16:00 UTC on the 3rd):
    # 16:30 UTC is 2:30 AEST.
    "australia-dst-change": "2027-04-03T16:30:00+00:00",
    # Sunday 19:30 in New York, Monday 01:30 in Berlin, Monday 11:30 in Sydney: weeks differ by zone.
    "week-boundary": "2026-12-07T00:30:00+00:00",
}
