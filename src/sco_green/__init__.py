"""SCO green-industry cooperation warehouse."""
