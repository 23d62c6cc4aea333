"""A small Replicate stand-in for the model-graded tests: graders and an embedding model.

It speaks just enough of the predictions API (create by model or by version, get) for
the plugin's providers, on 127.0.0.1, and answers the plugin's built-in grading prompts
with a keyword grader, deterministically. Markers in a rubric force a behaviour:
``[[fenced]]`` (JSON in prose and a code fence), ``[[malformed]]``, ``[[refuse]]``,
``[[score=0.4]]``. ``fail[model] = status`` makes that model's calls answer an HTTP error.
(Once the bundled simulator serves graders on main, these tests can move to it.)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMBEDDING_VERSION = "b6b7585c9640cd7a9572c6e129c9549d79c9c31f0d3fdce7baac7c67ca38f305"
REFUSAL = "I'm sorry, but I can't help with grading this."
_STOP_WORDS = ("a an the of to in on for and or is are was were be it its this that with as at by from does do "
               "not no mention mentions output response contains contain include includes about")
_STOP = set(_STOP_WORDS.split(" "))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def content_words(text: str) -> list[str]:
    return list(dict.fromkeys(w for w in words(text) if w not in _STOP and len(w) > 1))


def coverage(text: str, keywords: list[str]) -> float:
    have = set(words(text))
    return sum(k in have for k in keywords) / len(keywords) if keywords else 1.0


def between(text: str, start: str, end: str) -> str:
    rest = text[text.rfind(start) + len(start):]
    return rest[: rest.find(end)].strip() if end in rest else rest.strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def embed(text: str, size: int = 64) -> list[float]:
    vector = [0.0] * size
    for word in words(text):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % size] += 1.0 if digest[1] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    return [round(v / norm, 6) for v in vector] if norm else vector


def _json_answer(payload: dict[str, Any], text: str) -> str:
    if "[[malformed]]" in text:
        return "The output looks fine to me, it passes."
    if "[[refuse]]" in text:
        return REFUSAL
    if "[[fenced]]" in text:
        return f"Here is my grade.\n```json\n{json.dumps(payload, indent=2)}\n```\nHope this helps."
    return json.dumps(payload)


def grade(prompt: str, system_prompt: str = "") -> str:
    """The keyword grader's answer to one of the plugin's grading prompts."""
    text = f"{system_prompt}\n{prompt}"
    if "<Rubric>" in text:
        output, rubric = between(text, "<Output>", "</Output>"), between(text, "<Rubric>", "</Rubric>")
        negated = bool(re.match(r"(?i)\s*(does not|doesn't|not|never)\b", rubric))
        clean = re.sub(r"\[\[[^\]]*\]\]", "", rubric)
        mentioned = coverage(output, content_words(clean)) >= 0.5
        passed = mentioned != negated
        forced = re.search(r"\[\[score=([\d.]+)\]\]", rubric)
        score = float(forced.group(1)) if forced else float(passed)
        return _json_answer({"reason": f"keyword grader: {'pass' if passed else 'fail'}", "pass": passed,
                             "score": score}, rubric)
    if "[Criterion]:" in text:
        submission, criterion = between(text, "[Submission]:", "***"), between(text, "[Criterion]:", "***")
        if "[[malformed]]" in criterion:
            return "The submission seems to meet it."
        verdict = "Y" if coverage(submission, content_words(criterion)) >= 0.5 else "N"
        return f"1. The criterion asks for {', '.join(content_words(criterion))}.\n2. Checked.\n{verdict}\n{verdict}"
    if "<expert_answer>" in text:
        expert = set(content_words(between(text, "<expert_answer>", "</expert_answer>")))
        submitted = set(content_words(between(text, "<submitted_answer>", "</submitted_answer>")))
        numbers = {w for w in expert if w.isdigit()}, {w for w in submitted if w.isdigit()}
        if (numbers[0] and numbers[1] and not numbers[0] & numbers[1]) or not expert & submitted:
            category = "D"
        elif expert == submitted:
            category = "C"
        elif submitted < expert:
            category = "A"
        elif expert < submitted:
            category = "B"
        else:
            category = "E"
        return _json_answer({"category": category, "reason": f"keyword grader: category {category}"}, text)
    texts = re.findall(r'<Text index="(\d+)">\s*(.*?)\s*</Text>', text, re.S)
    if texts:
        keywords = content_words(between(text, "best fits the following criteria:", "Here are the pieces of text"))
        best = max(texts, key=lambda item: (coverage(item[1], keywords), -int(item[0])))
        return best[0]
    if "Generate question for the given answer" in text:
        return "What about " + " ".join(content_words(between(text, "Answer:", "Question:"))[:8]) + "?"
    if "[Attributed]" in text:
        context, answer = between(text, "context:", "answer:"), between(text, "answer:", "classification:")
        return "\n".join(f"{n}. {s} So {'[Attributed]' if coverage(context, content_words(s)) >= 0.6 else '[Not Attributed]'}"
                         for n, s in enumerate(sentences(answer), 1))
    if "Insufficient Information" in text:
        query, context = content_words(between(text, "query:", "context:")), between(text, "context:", "candidate sentences:")
        relevant = [s for s in sentences(context) if coverage(s, query) > 0]
        return "\n".join(relevant) or "Insufficient Information"
    if "create one or more statements" in text:
        return "\n".join(sentences(between(text, "answer:", "statements:")))
    if "Natural language inference" in text:
        context = between(text, "context:", "statements:")
        statements = [re.sub(r"^\d+\.\s*", "", s) for s in between(text, "statements:", "Answer:").splitlines() if s.strip()]
        verdicts = ["Yes" if coverage(context, content_words(s)) >= 0.6 else "No" for s in statements]
        return "\n".join(f"{s}\nVerdict: {v}." for s, v in zip(statements, verdicts, strict=True)) + \
            "\nFinal verdict for each statement in order: " + " ".join(f"{v}." for v in verdicts)
    if "generate 3-4 concise evaluation steps" in text:
        criteria = between(text, "**EVALUATION CRITERIA**", "**OUTPUT FORMAT**")
        if "[[malformed]]" in criteria:
            return "Step one: read it."
        return json.dumps({"steps": [f"Check for {w}." for w in content_words(criteria)[:3]] or ["Read it."]})
    if "You will be given one Reply" in text:
        criteria = content_words(between(text, "**Evaluation Criteria**", "**Evaluation Steps**"))
        reply = between(text, "**Reply**", "**OUTPUT FORMAT**")
        return json.dumps({"score": round(10 * coverage(reply, criteria)), "reason": "keyword grader"})
    return "I am a stand-in language model."


class StandIn:
    """Replicate's predictions API for graders, on 127.0.0.1 (use as a context manager)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (model, input) of each create
        self.fail: dict[str, int] = {}  # model -> HTTP status its creates answer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._predictions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def prompts_to(self, model: str) -> list[dict[str, Any]]:
        return [inp for name, inp in self.requests if name == model]

    def create(self, model: str, inp: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((model, inp))
            if model in self.fail:
                return self.fail[model], {"title": "Stand-in failure", "detail": "the stand-in was told to fail",
                                          "status": self.fail[model]}
            prediction_id = f"p{len(self._predictions) + 1:04d}"
        if "embed" in model or "mpnet" in model:
            output: Any = [{"embedding": embed(str(inp.get("text", "")))}]
        else:
            answer = grade(str(inp.get("prompt", "")), str(inp.get("system_prompt", "")))
            output = re.findall(r"\S+\s*|\s+", answer)
        prediction = {
            "id": prediction_id, "model": model, "version": "stand-in", "input": inp, "output": output,
            "status": "succeeded", "error": None, "logs": "", "metrics": {"predict_time": 0.01},
            "created_at": "2026-01-01T00:00:00.000000Z", "completed_at": "2026-01-01T00:00:00.500000Z",
            "urls": {"get": f"{self.url}/v1/predictions/{prediction_id}",
                     "cancel": f"{self.url}/v1/predictions/{prediction_id}/cancel"},
        }
        with self._lock:
            self._predictions[prediction_id] = prediction
        return 201, prediction

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                match = re.fullmatch(r"/v1/models/([^/]+)/([^/]+)/predictions", self.path)
                if match:
                    model = f"{match.group(1)}/{match.group(2)}"
                elif self.path == "/v1/predictions":
                    model = "replicate/all-mpnet-base-v2" if body.get("version") == EMBEDDING_VERSION \
                        else f"version/{body.get('version')}"
                else:
                    self._reply(404, {"detail": "not found", "status": 404})
                    return
                self._reply(*stand_in.create(model, body.get("input") or {}))

            def do_GET(self) -> None:
                prediction = stand_in._predictions.get(self.path.rsplit("/", 1)[-1])
                self._reply(200, prediction) if prediction else self._reply(404, {"detail": "not found"})

        return Handler
