"""The Replicate client against scripted transports: statuses, versions, retries, settings, secrets."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone

import httpx
import pytest
from helpers import FAKE_TOKEN

from pytest_replicate.errors import ConfigError, ProviderError
from pytest_replicate.http.auth import ApiAuth, origin
from pytest_replicate.providers import CallContext, create_provider
from pytest_replicate.redaction import PLACEHOLDER, Secret
from pytest_replicate.simulator.images import render_png

API = "https://api.replicate.com"
VERSION = "a" * 64


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def prediction(status: str = "succeeded", pid: str = "p1", **fields) -> dict:
    return {"id": pid, "model": "meta/llama-2-7b-chat", "version": VERSION, "status": status, "output": "Paris",
            "created_at": now(), "urls": {"get": f"{API}/v1/predictions/{pid}", "cancel": f"{API}/v1/predictions/{pid}/cancel"},
            **fields}


class Routes:
    """A MockTransport answering by (method, path); records every request."""

    def __init__(self, routes: dict) -> None:
        self.routes = routes
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.routes.get((request.method, request.url.path))
        if callable(answer):
            answer = answer(request)
        if answer is None:
            return httpx.Response(404, json={"title": "Not found", "detail": f"no route {request.url.path}"})
        return answer

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.seen if method in (None, r.method)]

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def provider(provider_id: str = "replicate:meta/llama-2-7b-chat", **config):
    settings = {"poll_interval": 0.001, "retry_backoff": 0.001, **config}
    return create_provider(provider_id, config=settings, env={"REPLICATE_API_TOKEN": FAKE_TOKEN})


def run(routes: Routes, provider_id: str = "replicate:meta/llama-2-7b-chat", context: CallContext | None = None,
        **config):
    context = context or CallContext()
    context.http = routes.client()
    return provider(provider_id, **config).call("Hi", context)


# -- statuses -------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "message"), [
    ("failed", "prediction p1 of meta/llama-2-7b-chat failed: boom"),
    ("canceled", "prediction p1 of meta/llama-2-7b-chat was canceled (by Replicate, its Cancel-After deadline"),
    ("aborted", "prediction p1 of meta/llama-2-7b-chat was aborted: its deadline (Cancel-After) passed before it started"),
])
def test_every_final_status_has_its_message(status, message):
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"):
                     httpx.Response(201, json=prediction(status, error="boom", output=None))})
    assert run(routes).error.startswith(message)


def test_a_poll_that_404s_says_the_prediction_vanished():
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction("starting"))})
    with pytest.raises(ProviderError, match=r"prediction p1 of meta/llama-2-7b-chat vanished: GET .*/v1/predictions/p1 answered 404"):
        run(routes)


# -- never create twice ---------------------------------------------------------------------

def test_a_create_answered_5xx_is_found_in_the_list_and_adopted():
    created = prediction("succeeded", pid="created-before-the-502", input={"prompt": "Hi"})
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(502, json={"detail": "bad gateway"}),
        ("GET", "/v1/predictions"): httpx.Response(200, json={"results": [
            prediction("succeeded", pid="other", input={"prompt": "Something else"}), created]}),
    })
    response = run(routes)
    assert response.error is None and response.output == "Paris"
    assert routes.paths("POST") == ["/v1/models/meta/llama-2-7b-chat/predictions"]  # sent once


def test_a_create_answered_5xx_and_not_listed_twice_is_resent():
    answers = [httpx.Response(503, json={"detail": "unavailable"}), httpx.Response(201, json=prediction())]
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): lambda request: answers.pop(0),
        ("GET", "/v1/predictions"): httpx.Response(200, json={"results": []}),
    })
    assert run(routes).output == "Paris"
    assert routes.paths() == ["/v1/models/meta/llama-2-7b-chat/predictions", "/v1/predictions", "/v1/predictions",
                              "/v1/models/meta/llama-2-7b-chat/predictions"]


def test_a_create_listed_only_at_the_recheck_is_adopted_not_resent():
    listings = [{"results": []}, {"results": [prediction(pid="late", input={"prompt": "Hi"})]}]
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(502, json={"detail": "bad gateway"}),
        ("GET", "/v1/predictions"): lambda request: httpx.Response(200, json=listings.pop(0)),
    })
    assert run(routes).output == "Paris"
    assert routes.paths("POST") == ["/v1/models/meta/llama-2-7b-chat/predictions"]


def test_creates_answered_5xx_every_time_fail_after_max_retries():
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(500, json={"detail": "oops"}),
        ("GET", "/v1/predictions"): httpx.Response(200, json={"results": []}),
    })
    with pytest.raises(ProviderError, match=r"creating a prediction of meta/llama-2-7b-chat failed 3 times, the last "
                                            r"with HTTP 500 oops; no prediction was made"):
        run(routes, max_retries=2)
    assert routes.paths("POST") == ["/v1/models/meta/llama-2-7b-chat/predictions"] * 3


def test_a_broken_create_after_a_5xx_is_not_resent_and_says_it_may_run():
    def answers(request, sent=[]):  # noqa: B006 (counts the creates)
        sent.append(request)
        if len(sent) == 1:
            return httpx.Response(503, json={"detail": "unavailable"})
        raise httpx.ReadError("connection reset", request=request)

    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): answers,
        ("GET", "/v1/predictions"): httpx.Response(200, json={"results": []}),
    })
    with pytest.raises(ProviderError, match=r"failed with the connection broke \(ReadError\) \(after 1 create\(s\) "
                                            r"answered 5xx that made none\).*not retried, because the prediction may"):
        run(routes)
    assert routes.paths("POST") == ["/v1/models/meta/llama-2-7b-chat/predictions"] * 2


def test_a_create_whose_connection_broke_and_not_listed_is_not_resent():
    def broken(request):
        raise httpx.ReadError("connection reset", request=request)

    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): broken,
        ("GET", "/v1/predictions"): httpx.Response(200, json={"results": []}),
    })
    with pytest.raises(ProviderError, match="not retried, because the prediction may have been created"):
        run(routes)
    assert routes.paths("POST") == ["/v1/models/meta/llama-2-7b-chat/predictions"]


def test_a_throttled_create_is_resent_and_backpressure_is_told():
    answers = [httpx.Response(429, headers={"Retry-After": "0"}, json={"detail": "slow"}),
               httpx.Response(201, json=prediction())]
    events: list = []

    class Pressure:
        def throttled(self, retry_after):
            events.append(("throttled", retry_after))

        def relieved(self):
            events.append(("relieved",))

    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): lambda request: answers.pop(0)})
    assert run(routes, context=CallContext(backpressure=Pressure())).output == "Paris"
    assert events == [("throttled", 0.0), ("relieved",)]


# -- versions ---------------------------------------------------------------------------------

def test_a_model_without_official_endpoint_runs_its_latest_version():
    routes = Routes({
        ("GET", "/v1/models/meta/llama-guard-3-8b"): httpx.Response(200, json={"latest_version": {"id": VERSION}}),
        ("POST", "/v1/predictions"): httpx.Response(201, json=prediction(output="safe")),
    })
    guard = provider("replicate:moderation:meta/llama-guard-3-8b")
    response = guard.call("Human: hi\n\nAssistant: hello", CallContext(http=routes.client()))
    assert response.output == "safe" and response.metadata["resolved_version"] == VERSION
    assert guard.resolved_versions == {"meta/llama-guard-3-8b": VERSION}
    assert routes.paths() == ["/v1/models/meta/llama-guard-3-8b/predictions", "/v1/models/meta/llama-guard-3-8b",
                              "/v1/predictions"]
    assert json.loads(routes.seen[-1].content)["version"] == VERSION


def test_a_pinned_version_never_asks_for_the_latest():
    routes = Routes({("POST", "/v1/predictions"): httpx.Response(201, json=prediction())})
    run(routes, f"replicate:meta/llama-guard-3-8b:{VERSION}")
    assert routes.paths() == ["/v1/predictions"]


def test_an_unknown_version_says_so():
    routes = Routes({("POST", "/v1/predictions"): httpx.Response(
        422, json={"title": "Invalid version", "detail": "Invalid version or not permitted"})})
    with pytest.raises(ProviderError, match=f"Replicate does not know version {VERSION} of meta/x, or your token may not run it"):
        run(routes, f"replicate:meta/x:{VERSION}")


def test_a_rejected_parameter_is_named():
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(422, json={
        "title": "Input validation failed", "detail": "- input.top_k: Input should be greater than 0\n"})})
    with pytest.raises(ProviderError, match=r"rejected the input for replicate:meta/llama-2-7b-chat \(422\): "
                                            r"parameter `top_k`: Input should be greater than 0"):
        run(routes)


def test_error_details_are_redacted():
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(
        400, json={"detail": f"bad header Bearer {FAKE_TOKEN} and r8_{'z' * 37}"})})
    with pytest.raises(ProviderError) as raised:
        run(routes)
    assert FAKE_TOKEN not in str(raised.value) and "zzzz" not in str(raised.value) and PLACEHOLDER in str(raised.value)


# -- deadlines ---------------------------------------------------------------------------------

def test_the_context_deadline_bounds_the_call_and_cancels():
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction("processing")),
        ("GET", "/v1/predictions/p1"): httpx.Response(200, json=prediction("processing")),
        ("POST", "/v1/predictions/p1/cancel"): httpx.Response(200, json=prediction("canceled")),
    })
    with pytest.raises(ProviderError, match=r"prediction p1 of meta/llama-2-7b-chat did not finish within "
                                            r"the run's deadline and was canceled \(gave up after \d+\.\ds\)"):
        run(routes, context=CallContext(deadline=time.monotonic() + 0.2))
    assert routes.paths("POST")[-1] == "/v1/predictions/p1/cancel"


def test_create_headers_follow_the_deadline():
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction())})
    run(routes, timeout=30)
    assert routes.seen[0].headers["prefer"] == "wait=29"  # never held past the deadline
    assert routes.seen[0].headers["cancel-after"] == "30s"
    routes.seen.clear()
    run(routes, timeout=0.5, cancel_after=120)
    assert "prefer" not in routes.seen[0].headers and routes.seen[0].headers["cancel-after"] == "120s"


# -- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "words"), [
    ("max_retries", -1, "a whole number from 0 to 100"),
    ("timeout", -5, "a number of seconds greater than 0"),
    ("poll_interval", 0, "a number of seconds greater than 0 and at most 300"),
    ("wait", 61, "a whole number of seconds from 0 (no Prefer: wait) to 60"),
    ("cancel_after", 1, "a number of seconds from 5 to 86400 (24 hours)"),
])
def test_numeric_settings_are_range_checked(key, value, words):
    with pytest.raises(ConfigError) as raised:
        provider(**{key: value})
    assert raised.value.message == f"config.{key} must be {words}, got {value!r}"


@pytest.mark.parametrize("key", ["webhook", "stream"])
def test_request_options_never_become_input(key):
    with pytest.raises(ConfigError, match=f"config.{key} is not supported"):
        provider(**{key: "x"})


# -- secrets --------------------------------------------------------------------------------

def test_secret_hides_itself_but_still_sends():
    token = Secret(FAKE_TOKEN)
    shown = [repr(token), str(token), f"{token}", "%s" % token,  # noqa: UP031
             repr({"apiKey": token})]
    assert not any(FAKE_TOKEN in text for text in shown)
    assert token == FAKE_TOKEN and json.dumps(token) == json.dumps(FAKE_TOKEN) and token.reveal() == FAKE_TOKEN
    assert FAKE_TOKEN not in repr(ApiAuth(token, API, "no token"))


def test_api_key_in_a_config_is_wrapped_in_place():
    config = {"apiKey": FAKE_TOKEN}
    create_provider("replicate:meta/llama-2-7b-chat", config=config)
    assert FAKE_TOKEN not in repr(config) and config["apiKey"] == FAKE_TOKEN


def test_a_known_token_in_the_input_is_replaced_before_sending():
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction())})
    provider().call(f"my token is {FAKE_TOKEN}", CallContext(http=routes.client()))
    assert FAKE_TOKEN.encode() not in routes.seen[0].content
    assert json.loads(routes.seen[0].content)["input"]["prompt"] == f"my token is {PLACEHOLDER}"
    assert routes.seen[0].headers["authorization"] == f"Bearer {FAKE_TOKEN}"


# -- the token goes to the API's origin only -----------------------------------------------

def test_the_token_goes_only_to_the_base_urls_origin():
    auth = ApiAuth(Secret(FAKE_TOKEN), "https://api.replicate.com/", "no token")
    for url, sent in [("https://api.replicate.com:443/v1/predictions", True), ("https://API.replicate.com/x", True),
                      ("http://api.replicate.com/v1/predictions", False), ("https://api.replicate.com:8443/x", False),
                      ("https://replicate.delivery/v1/predictions", False), ("https://evil.example/", False)]:
        request = next(auth.auth_flow(httpx.Request("GET", url)))
        assert ("authorization" in request.headers) is sent, url
    assert origin("http://[::1]:8080/a") == "http://[::1]:8080" and origin("HTTP://LocalHost:80/") == "http://localhost"


def test_polls_and_cancels_on_another_origin_go_to_the_base_url_instead():
    """A proxy (or a hostile server) answering with URLs elsewhere gets no request, and no token, there."""
    elsewhere = {"get": "https://elsewhere.example/v1/predictions/p1",
                 "cancel": "https://elsewhere.example/v1/predictions/p1/cancel"}
    polls = [httpx.Response(200, json=prediction("processing", urls=elsewhere)),
             httpx.Response(200, json=prediction("succeeded", urls=elsewhere))]
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction("starting", urls=elsewhere)),
        ("GET", "/v1/predictions/p1"): lambda request: polls.pop(0),
    })
    assert run(routes).output == "Paris"
    assert [request.url.host for request in routes.seen] == ["api.replicate.com"] * 3
    assert all(request.headers["authorization"] == f"Bearer {FAKE_TOKEN}" for request in routes.seen)

    stopped = CallContext(deadline=time.monotonic() + 0.3)
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction("starting", urls=elsewhere)),
        ("GET", "/v1/predictions/p1"): httpx.Response(200, json=prediction("processing", urls=elsewhere)),
        ("POST", "/v1/predictions/p1/cancel"): httpx.Response(200, json=prediction("canceled", urls=elsewhere)),
    })
    with pytest.raises(ProviderError, match="was canceled"):
        run(routes, context=stopped)
    assert {request.url.host for request in routes.seen} == {"api.replicate.com"}
    assert routes.paths("POST")[-1] == "/v1/predictions/p1/cancel"


# -- outputs -------------------------------------------------------------------------------

def test_every_image_of_a_multi_image_output_is_kept():
    pngs = [render_png(8, 4, "a"), render_png(16, 8, "b")]
    data_uri = "data:image/png;base64," + base64.b64encode(pngs[1]).decode()
    routes = Routes({
        ("POST", "/v1/predictions"): httpx.Response(201, json=prediction(output=["https://files.test/0.png", data_uri])),
        ("GET", "/0.png"): httpx.Response(200, content=pngs[0], headers={"Content-Type": "image/png"}),
    })
    response = run(routes, f"replicate:image:stability-ai/sdxl:{VERSION}")
    assert [(image.width, image.height) for image in response.images] == [(8, 4), (16, 8)]
    assert response.image is response.images[0] and response.output == "![Hi](https://files.test/0.png)"
    assert "authorization" not in routes.seen[1].headers  # the token stays with the API


def test_image_size_defaults_to_768_and_null_leaves_the_models_own():
    routes = Routes({("POST", "/v1/predictions"): httpx.Response(201, json=prediction(output=[]))})
    run(routes, f"replicate:image:stability-ai/sdxl:{VERSION}")
    run(routes, f"replicate:image:stability-ai/sdxl:{VERSION}", width=None, height=None)
    first, second = (json.loads(request.content)["input"] for request in routes.seen)
    assert (first["width"], first["height"]) == (768, 768)
    assert "width" not in second and "height" not in second


def test_download_failures_are_retried_then_reported():
    attempts = []

    def flaky(request):
        attempts.append(request)
        raise httpx.ConnectError("refused", request=request)

    routes = Routes({
        ("POST", "/v1/predictions"): httpx.Response(201, json=prediction(output=["https://files.test/0.png"])),
        ("GET", "/0.png"): flaky,
    })
    with pytest.raises(ProviderError, match=r"GET https://files.test/0.png failed after 3 attempts: could not connect"):
        run(routes, f"replicate:image:stability-ai/sdxl:{VERSION}", max_retries=2)
    assert len(attempts) == 3


# -- inputs from vars --------------------------------------------------------------------------

def test_input_vars_send_files_as_data_uris_and_urls_unchanged():
    png = render_png(4, 4, "cat")
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): httpx.Response(201, json=prediction())})
    variables = {"image": base64.b64encode(png).decode(), "photo": "https://example.test/dog.png", "n": 3}
    run(routes, context=CallContext(vars=variables), input_vars={"image": "image", "image_2": "photo"},
        cancel_after=60)
    sent = json.loads(routes.seen[0].content)["input"]
    assert sent["image"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert sent["image_2"] == "https://example.test/dog.png"
    assert set(sent) == {"prompt", "image", "image_2"}  # settings (cancel_after, input_vars) never reach input


def test_input_vars_name_a_missing_var():
    routes = Routes({})
    with pytest.raises(ProviderError, match="input_vars sends var 'image' to meta/llama-2-7b-chat as 'image', but"):
        run(routes, input_vars=["image"])


def test_a_throttled_create_that_would_retry_past_the_deadline_stops_with_the_deadline_message():
    routes = Routes({("POST", "/v1/models/meta/llama-2-7b-chat/predictions"):
                     httpx.Response(429, headers={"Retry-After": "20"}, json={"detail": "slow down"})})
    with pytest.raises(ProviderError, match=r"^meta/llama-2-7b-chat did not finish within 2s \(gave up after"):
        run(routes, timeout=2)
    assert len(routes.seen) == 1  # no retry that could only start after the deadline


def test_resolved_versions_make_one_summary_line_per_model():
    from pytest_replicate.providers.replicate.text import resolved_version_lines, resolved_versions

    guard = provider("replicate:moderation:meta/llama-guard-3-8b")
    guard.resolved_versions["meta/llama-guard-3-8b"] = VERSION
    assert resolved_version_lines(resolved_versions([guard, provider()])) == [
        f"meta/llama-guard-3-8b has no official endpoint: ran its latest version {VERSION[:12]}... "
        f"(pin it: replicate:meta/llama-guard-3-8b:{VERSION})"]


def test_a_re_create_replays_as_recorded_even_when_the_listing_holds_an_older_prediction(tmp_path):
    """Live, an older prediction with the same input is too old to adopt; a replayed listing's times are
    old anyway, so the cassette must say the lookup found none, or the replay would adopt that one."""
    from pytest_replicate.cassettes.cassette import Cassette, CassetteTransport
    from pytest_replicate.http.client import CallClient

    older = prediction(pid="from-an-earlier-run", input={"prompt": "Hi"}, output="Old", created_at="2020-01-01T00:00:00Z")
    answers = [httpx.Response(503, json={"detail": "unavailable"}), httpx.Response(201, json=prediction())]
    routes = Routes({
        ("POST", "/v1/models/meta/llama-2-7b-chat/predictions"): lambda request: answers.pop(0),
        ("GET", "/v1/predictions"): httpx.Response(200, json={"results": [older]}),
    })
    path = tmp_path / "c.yaml"
    for mode, transport in [("once", httpx.MockTransport(routes)), ("none", None)]:
        cassette = Cassette(path, mode)
        client = httpx.Client(transport=CassetteTransport(transport or httpx.MockTransport(routes.__call__)))
        response = provider().call("Hi", CallContext(http=CallClient(client, cassette)))
        assert response.output == "Paris", mode
        cassette.save()
    assert routes.paths("POST") == ["/v1/models/meta/llama-2-7b-chat/predictions"] * 2  # the replay sent nothing
