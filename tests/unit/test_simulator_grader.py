"""The grader stand-in and the embedding model: promptfoo's grading formats, deterministic verdicts."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from pytest_replicate.simulator import Simulator
from pytest_replicate.simulator.embeddings import cosine, embed
from pytest_replicate.simulator.grader import REFUSAL, grade

# The shapes of promptfoo 0.123's grading prompts, paraphrased: only the fixed phrases
# and tags the grader keys on are kept.
RUBRIC_SYSTEM = ("You are grading output according to a user-specified rubric. Respond with a JSON object "
                 "{reason: string, pass: boolean, score: number}\n\nExamples:\n\n<Output>Hello world</Output>\n"
                 "<Rubric>Content contains a greeting</Rubric>\n"
                 '{"reason": "the content contains the word \'Hello\'", "pass": true, "score": 1.0}')


def rubric_prompt(output: str, rubric: str) -> str:
    """A chat-message list as promptfoo renders it (system examples, then the case)."""
    return json.dumps([{"role": "system", "content": RUBRIC_SYSTEM},
                       {"role": "user", "content": f"<Output>\n{output}\n</Output>\n<Rubric>\n{rubric}\n</Rubric>"}])


def first_json(text: str) -> dict:
    """What a tolerant grader parser does: the first {...} in the text, fences or prose around it."""
    return json.loads(re.search(r"\{.*\}", text, re.S)[0])


@pytest.mark.parametrize(("output", "rubric", "passed"), [
    ("The capital of France is Paris.", "Mentions Paris", True),
    ("Bonjour! How can I help?", "Content contains a greeting", True),
    ("I like turtles.", "Mentions the capital of France", False),
    ("Avast ye, matey!", "Does not speak like a pirate", False),
    ("Good afternoon, sir.", "Does not speak like a pirate", True),
])
def test_rubric_verdicts_follow_the_rubric_words(output: str, rubric: str, passed: bool) -> None:
    verdict = first_json(grade(rubric_prompt(output, rubric)))
    assert verdict["pass"] is passed
    assert 0.0 <= verdict["score"] <= 1.0 and verdict["reason"]


def test_wrapping_varies_like_real_models_and_markers_pick_it() -> None:
    answers = {name: grade(rubric_prompt("Paris", f"Mentions Paris [[{name}]]"))
               for name in ("json", "prose", "fenced")}
    assert json.loads(answers["json"])["pass"] is True
    assert answers["prose"].startswith("Here is") and first_json(answers["prose"])["pass"] is True
    assert answers["fenced"].startswith("```json\n") and answers["fenced"].endswith("\n```")
    styles = {grade(rubric_prompt(f"Paris {i}", "Mentions Paris"))[:3] for i in range(12)}
    assert len(styles) > 1  # unmarked prompts get different wrappings, deterministically
    assert grade(rubric_prompt("Paris", "Mentions Paris")) == grade(rubric_prompt("Paris", "Mentions Paris"))


def test_malformed_and_refusing_answers_on_request() -> None:
    with pytest.raises(ValueError):
        json.loads(grade(rubric_prompt("Paris", "Mentions Paris [[malformed]]")))
    assert grade(rubric_prompt("Paris", "Mentions Paris [[refuse]]")) == REFUSAL


def test_a_score_marker_sets_the_rubric_score_and_keeps_the_verdict() -> None:
    verdict = first_json(grade(rubric_prompt("Paris", "Mentions Paris [[score=0.4]] [[json]]")))
    assert (verdict["pass"], verdict["score"]) == (True, 0.4)
    assert "score" not in verdict["reason"]  # the marker is not a word of the rubric


def test_closed_qa_ends_with_y_or_n() -> None:
    prompt = ("You are assessing a submitted answer on a given task based on a criterion. Here is the data:\n"
              "[BEGIN DATA]\n***\n[Task]: {task}\n***\n[Submission]: {submission}\n***\n[Criterion]: {criterion}\n"
              "***\n[END DATA]\nDoes the submission meet the criterion?")
    good = grade(prompt.format(task="Capital of France?", submission="It is Paris.", criterion="names Paris"))
    bad = grade(prompt.format(task="Capital of France?", submission="It is Lyon.", criterion="names Paris"))
    assert good.splitlines()[-1] == "Y" and bad.splitlines()[-1] == "N"
    assert not grade(prompt.format(task="t", submission="Paris", criterion="Paris [[malformed]]")).endswith(("Y", "N"))


@pytest.mark.parametrize(("expert", "submitted", "category"), [
    ("Paris", "Paris", "C"),
    ("Paris", "The capital of France is Paris.", "B"),
    ("The capital of France is Paris.", "Paris", "A"),
    ("Paris", "Lyon", "D"),
    ("It was built in 1889.", "It was built in 1925.", "D"),
])
def test_factuality_categories(expert: str, submitted: str, category: str) -> None:
    prompt = (f"<question>\nWhat is the capital of France?\n</question>\n\n<expert_answer>\n{expert}\n"
              f"</expert_answer>\n\n<submitted_answer>\n{submitted}\n</submitted_answer>")
    assert first_json(grade(prompt))["category"] == category


def test_select_best_answers_an_index() -> None:
    texts = "".join(f'<Text index="{i}">\n{t}\n</Text>\n' for i, t in enumerate(["Berlin is big.", "Paris is lovely."]))
    prompt = (f"You are comparing multiple pieces of text to see which best fits the following criteria: "
              f"mentions Paris\n\nHere are the pieces of text:\n\n{texts}\nOutput the index of the text.")
    assert grade(prompt) == "1"


def test_answer_relevance_generates_a_related_question() -> None:
    prompt = ("Generate question for the given answer.\nAnswer:\nThe PSLV-C56 mission is scheduled\n"
              "Question: When is it?\n\nAnswer:The capital of France is Paris.\nQuestion:")
    question = grade(prompt)
    assert question == "What is the capital of France?"
    assert cosine(embed(question), embed("What is the capital of France?")) > 0.9


def test_context_prompts() -> None:
    context = "Paris is the capital of France. It has many museums. Bananas grow in the tropics."
    recall = grade("Given a context, and an answer, analyze each sentence in the answer and classify if the "
                   f"sentence can be attributed to the given context or not.\ncontext:{context}\n"
                   "answer:Paris is the capital of France. It was founded by aliens.\nclassification:\n")
    assert recall.count("[Attributed]") == 1 and recall.count("[Not Attributed]") == 1
    relevance = grade("Please extract relevant sentences from the provided context that is absolutely required "
                      f"answer the following query.\n\nquery: museums in Paris\ncontext: {context}\n"
                      "candidate sentences:\n")
    assert "Bananas" not in relevance and "museums" in relevance
    nothing = grade("Please extract relevant sentences from the provided context ...\n\nquery: quantum gravity\n"
                    f"context: {context}\ncandidate sentences:\n")
    assert nothing == "Insufficient Information"
    statements = grade("Given a question and answer, create one or more statements from each sentence in the "
                       "given answer.\nquestion: What is Paris?\nanswer: Paris is the capital. It has museums.\n"
                       "statements:\n")
    assert statements.splitlines() == ["Paris is the capital.", "It has museums."]
    verdicts = grade(f"Prompt: Natural language inference\n...\ncontext:\n{context}\nstatements:\n"
                     "Paris is the capital of France.\nParis has a spaceport.\nAnswer:\n")
    assert verdicts.splitlines()[-1] == "Final verdict for each statement in order: Yes. No."


def test_g_eval_steps_then_score() -> None:
    steps = json.loads(grade("Given evaluation criteria ... generate 3-4 concise evaluation steps applicable to any "
                             "text\n\n**EVALUATION CRITERIA**\nMentions Paris and France\n\n**OUTPUT FORMAT**\n"
                             "[[json]]"))
    assert 3 <= len(steps["steps"]) <= 4
    scored = json.loads(grade("You will be given one Reply for a Prompt below.\n**Evaluation Criteria**\n"
                              "Mentions Paris and France\n\n**Evaluation Steps**\n- ...\n integer from 0 to 10, ...\n"
                              "**Prompt**\nCapital?\n\n**Reply**\nParis, in France.\n\n**OUTPUT FORMAT**\n[[json]]"))
    assert scored["score"] == 10 and scored["reason"]


def test_ordinary_prompts_are_not_graded() -> None:
    assert grade("What is the capital of France?") is None


def test_embeddings_put_similar_texts_closer() -> None:
    paris = embed("The capital of France is Paris.")
    assert embed("The capital of France is Paris.") == paris  # deterministic
    assert abs(cosine(paris, paris) - 1) < 1e-6
    assert cosine(paris, embed("Paris is the capital city of France")) > cosine(paris, embed("Bananas are yellow"))


def test_grader_and_embedding_models_over_http(simulator: Simulator) -> None:
    headers = {"Authorization": "Bearer r8_test_token", "Prefer": "wait"}
    with httpx.Client(base_url=simulator.url, headers=headers, timeout=5) as client:
        graded = client.post("/v1/models/meta/meta-llama-3-8b-instruct/predictions", json={"input": {
            "system_prompt": RUBRIC_SYSTEM,
            "prompt": "<Output>\nParis\n</Output>\n<Rubric>\nMentions Paris [[json]]\n</Rubric>",
        }}).json()
        assert json.loads("".join(graded["output"]))["pass"] is True
        version = simulator.catalogue.models["replicate/all-mpnet-base-v2"].latest_version
        embedded = client.post("/v1/predictions", json={"version": version, "input": {
            "text_batch": json.dumps(["Paris is in France", "Bananas are yellow"])}}).json()
        vectors = [item["embedding"] for item in embedded["output"]]
        assert len(vectors) == 2 and len(vectors[0]) == 768
        assert vectors[0] == embed("Paris is in France")
