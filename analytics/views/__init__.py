"""Server-rendered analytics pages, one module per area.

- dashboard.py, runs.py, taxonomy.py: the staff signals dashboard, extraction runs and taxonomy actions
- rankings.py, compare.py, guide.py: the public rankings, side-by-side comparisons and failure-signal guide
- evidence.py: staff GitHub linking and repository checks
- health.py: liveness
- common.py: what these share
"""
