"""Channel adapters: one module per channel behind the Protocol of base.py."""
