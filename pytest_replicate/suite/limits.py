"""How many cases one eval file may expand to, and the ini option that changes it.

Its own module, importing nothing, so pytest's option parsing can name the default without
loading the suite machinery (Jinja2, the schema) in projects that have no eval file.
"""

# A suite that expands beyond this many cases is refused: six vars of 20 values each are
# 64 million cases.
DEFAULT_MAX_CASES = 10_000
MAX_CASES_OPTION = "replicate_max_cases"
