"""`make load`: a load test of the whole app with locust (see __main__.py)."""
