def generate_tests(config=None):
    count = (config or {}).get("count", 1)
    return [{"description": f"generated {i}", "vars": {"q": f"gen {i}"},
             "assert": [{"type": "contains", "value": "gen 1"}]} for i in range(count)]
