"""Server-rendered pages of the catalog and learner feedback, one module per area.

Views stay thin: forms validate with the shared validators and every write goes through reviews.services.

- catalog.py: home, course and instructor lists and detail pages
- reviews.py: a learner's review pages (write, edit, delete, vote, report, "my reviews")
- accounts.py: sign-up and log-in
- moderation.py: the staff moderation queue and decisions
- common.py: what these share (review sorts, votes and reports shown, safe redirects)
"""
