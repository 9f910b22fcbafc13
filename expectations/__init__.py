"""Great Expectations suites for the three feeds, defined in code."""
