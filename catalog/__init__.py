"""The service catalogue: schema, loader/validator, seed data (`catalog/data`), matching.

- `catalog.schema.Service`: one record (Italian field names, the staff edit YAML).
- `catalog.loader.load_path`: a YAML/CSV file or folder -> services + every `Problem`.
- `catalog.loader.dump`: services -> YAML or CSV (re-importable, round-trips equal).
- `catalog.matching.match`: need profile -> ranked matches with reason/check codes.

Never imports `bot`, `flows` or any transport (dependency direction bot -> flows -> catalog).
"""
