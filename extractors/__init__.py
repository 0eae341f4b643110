"""Everything that brings articles in from the outside world, as `Article` records.

Plain Python: no Prefect, no database. The flows persist what these functions return.
"""
