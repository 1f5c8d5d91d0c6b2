"""The operator/admin console at /operator: queue, conversations, accounts."""
