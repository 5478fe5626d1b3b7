"""A JSON report of the day's sales."""

import json


def summarize(totals):
    return {"orders": len(totals), "revenue": round(sum(totals), 2),
            "largest": max(totals)}


def to_json(summary):
    return json.dumps(summary, sort_keys=True)
