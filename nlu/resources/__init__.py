"""Data files of `nlu` (lexicons, aliases); a package so that setuptools ships them."""
