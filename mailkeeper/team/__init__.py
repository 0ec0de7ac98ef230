"""Team mode (issue 23): publishing this rep's record to the team record on PostgreSQL
(push.py) and the team commands' logic (views.py). The SQL is in store/team/."""
