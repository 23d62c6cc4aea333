"""vcrpy's record modes plus ``rewrite`` (record every cassette afresh), as pytest-recording names them.

Its own module so option parsing can name them without importing vcrpy.
"""

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
