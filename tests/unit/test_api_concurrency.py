"""Calls from sync and async tests share one bound: at most N model calls run at once."""

from __future__ import annotations

import asyncio
import threading

from pytest_replicate import CallContext, Provider, ProviderResponse, ReplicateModel, ReplicateSession
from pytest_replicate.run.session import EvalSession


class Overlapping(Provider):
    """Every call waits for a partner: it proves two calls run at once, and counts the peak."""

    def __init__(self) -> None:
        super().__init__("overlapping")
        self.barrier = threading.Barrier(2, timeout=10)
        self.active = self.peak = 0
        self.lock = threading.Lock()

    def call(self, prompt: str, context: CallContext) -> ProviderResponse:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        self.barrier.wait()
        with self.lock:
            self.active -= 1
        return ProviderResponse(output=prompt)


def test_async_and_sync_calls_share_the_session_bound() -> None:
    session = EvalSession(env={})
    scope = ReplicateSession(session, cassette=None, rerun_hint="test", slots=threading.BoundedSemaphore(2))
    provider = Overlapping()
    model = ReplicateModel(provider, scope)

    async def main() -> list[str]:
        results = await asyncio.gather(*(model.acall("call {{ n }}", vars={"n": n}) for n in range(6)))
        return [result.text for result in results]

    threads = [threading.Thread(target=model, args=("sync",)) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert asyncio.run(main()) == [f"call {n}" for n in range(6)]
    for thread in threads:
        thread.join()
    assert provider.peak == 2
    session.close()
