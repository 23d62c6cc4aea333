def calculate_score(named_scores, context=None):
    accuracy = named_scores.get("accuracy")
    return {"pass": accuracy >= context["threshold"], "score": accuracy, "reason": "accuracy only"}
