def any_pass(named_scores, context):
    passed = sum(1 for result in context["componentResults"] if result["pass"])
    return {"pass": passed >= 1, "score": passed / max(1, len(context["componentResults"])), "reason": "custom"}
