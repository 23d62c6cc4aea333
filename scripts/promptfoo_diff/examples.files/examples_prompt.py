class Prompt:
    @staticmethod
    def prompt(context):
        return f"Tell me about {context['vars']['topic']}"
