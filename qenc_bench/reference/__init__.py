"""Published reference numbers shipped with qenc-bench."""
