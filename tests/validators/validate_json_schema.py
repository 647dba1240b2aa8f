"""Validates JSON documents against a JSON Schema (draft-07), as an editor's language server would.

Usage: python3 validate_json_schema.py SCHEMA.json DOCUMENT.json...
Prints `<document>: <path>: <message>` per violation; exits 1 if there is any.
"""
import json
import sys

from jsonschema import Draft7Validator

with open(sys.argv[1], encoding="utf-8") as schema_file:
    schema = json.load(schema_file)
Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema)
failed = False
for name in sys.argv[2:]:
    with open(name, encoding="utf-8") as document_file:
        document = json.load(document_file)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        failed = True
        print(f"{name}: {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}")
sys.exit(1 if failed else 0)
