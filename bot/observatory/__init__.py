"""Anonymous need events and what the territory asks for."""
