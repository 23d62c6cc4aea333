def text(context):
    return "Function for " + context["vars"]["name"] + " on {{ name }}"


def chat(context):
    return [{"role": "user", "content": "Function chat for " + context["vars"]["name"]}]


def with_config(context):
    return {"prompt": "Configured for {{ name }}", "config": {"temperature": 0}}


def picky(context):
    if context["vars"]["name"] == "Ed":
        raise ValueError("no prompt for Ed")
    return "Picky for {{ name }}"
