"""The JSON lines of `fa-tune bench --json` (one object a line; other lines skipped)."""
import json


def json_rows(text):
    """Every line of text that parses as a JSON object, in order."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows
