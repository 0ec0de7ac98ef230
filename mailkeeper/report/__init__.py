"""Read-only views of the store: the account-health site (site.py, from health.py's rows and
charts.py's SVG charts)."""
