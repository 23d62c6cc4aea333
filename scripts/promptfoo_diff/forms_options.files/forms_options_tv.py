def get_transform(vars, context):
    return {"shout": vars["q"].upper()}
