def get_assert(output, context):
    fruits = context.get("config", {}).get("fruitList", [])
    return any(fruit in output.lower() for fruit in fruits)
