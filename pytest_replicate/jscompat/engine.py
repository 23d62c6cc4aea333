"""The embedded JavaScript engine: user JavaScript runs here, as promptfoo would run it in Node.

promptfoo's inline code, transforms and ``file://x.js`` functions are JavaScript. We run them
in V8 embedded through ``mini-racer`` (the ``js`` extra), imported only when an eval file has
JavaScript in it. Plain V8 has no file, network or process access, and we add none: ``require``
and ``import`` fail with a message saying so. Every call has a time limit. Values cross the
boundary as JSON, so a function gets Python data and returns Python data (a returned Promise is
awaited, within the same time limit).

One engine serves the process: mini-racer runs V8 on a thread of its own and accepts calls from
any thread; a lock makes calls take turns, so each call's time limit is its own.
"""

from __future__ import annotations

import atexit
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError

TIME_LIMIT_SECONDS = 10.0  # per call; promptfoo has none, but a runaway loop must not hang the run
INSTALL_HINT = "pip install 'pytest-replicate[js]'"

# Installed once per engine: how functions are kept, called and loaded from files.
_PRELUDE = r"""
globalThis.__pr = (() => {
  const functions = [];
  const modules = {};
  const noAccess = (what) => () => {
    throw new Error(`${what} is not available: JavaScript in pytest-replicate runs without file, network or `
      + `module access (no require, no import); inline what you need or use a Python file`);
  };
  const require = (name) => noAccess(`require('${name}')`)();
  const process = { env: {}, mainModule: { require } };
  globalThis.require = require;
  const encode = (value) => JSON.stringify({ v: value === undefined ? null : value });
  const failure = (error) => JSON.stringify({
    e: error instanceof Error ? `${error.name}: ${error.message}` : `uncaught ${typeof error}: ${String(error)}`,
  });
  // promptfoo's context.provider is the provider object, whose id is a method.
  const revive = (value) => {
    if (value && typeof value === 'object' && value.provider && typeof value.provider.id === 'string') {
      const id = value.provider.id;
      value.provider = { ...value.provider, id: () => id, toString: () => id };
    }
    return value;
  };
  return {
    process,
    keep(fn) { functions.push(fn); return functions.length - 1; },
    call(index, argsJson) {
      try {
        const result = functions[index](...JSON.parse(argsJson).map(revive));
        if (result && typeof result.then === 'function') {
          return Promise.resolve(result).then(encode, failure);
        }
        return encode(result);
      } catch (error) {
        return failure(error);
      }
    },
    inline(params, body) {
      const fn = new Function(...params, 'process', body);
      return this.keep(function (...args) {
        return fn.call(this, ...args.concat(new Array(Math.max(0, params.length - args.length))), process);
      });
    },
    module(source, filename, version) {
      // Run once per version of the file, as Node's require cache: its functions share its state.
      const key = `${filename}@${version}`;
      if (!(key in modules)) {
        const module = { exports: {} };
        const dirname = filename.replace(/\/[^/]*$/, '');
        new Function('module', 'exports', 'require', '__filename', '__dirname', 'process', source)(
          module, module.exports, require, filename, dirname, process);
        modules[key] = module.exports;
      }
      return modules[key];
    },
    pick(exported, name, file) {
      let fn;
      if (name) {
        fn = exported && Object.prototype.hasOwnProperty.call(exported, name) ? exported[name] : undefined;
        if (typeof fn !== 'function') {
          throw new Error(`${file} exports no function named ${name}`);
        }
      } else if (typeof exported === 'function') {
        fn = exported;
      } else if (exported && typeof exported.default === 'function') {
        fn = exported.default;
      } else {
        throw new Error(`${file} must export a function (module.exports = function, or export default), `
          + `or name one: file://${file}:functionName`);
      }
      return this.keep(fn);
    },
  };
})();
"""


class JsError(Exception):
    """User JavaScript threw, returned what cannot cross as JSON, or ran past its time limit."""


class JsFunction:
    """A JavaScript function kept in the engine, callable from Python with any arguments."""

    def __init__(self, engine: Engine, index: int, label: str) -> None:
        self._engine = engine
        self._index = index
        self.label = label

    def __call__(self, *args: Any) -> Any:
        return self._engine.call(self._index, args)

    def __repr__(self) -> str:
        return f"<JavaScript function {self.label}>"


class Engine:
    """V8 with the prelude installed; every call goes through :meth:`call`."""

    def __init__(self, time_limit: float = TIME_LIMIT_SECONDS) -> None:
        self.time_limit = time_limit
        self._lock = threading.Lock()
        self._racer = _new_racer()
        self._racer.eval(_PRELUDE)

    def inline(self, params: tuple[str, ...], body: str, label: str) -> JsFunction:
        """``new Function(*params, 'process', body)``: a SyntaxError raises :class:`JsError` now."""
        return JsFunction(self, self._eval_int(f"__pr.inline({json.dumps(list(params))}, {json.dumps(body)})"), label)

    def from_module(self, source: str, file: Path, version: int, label: str, function_name: str | None) -> JsFunction:
        """Run a CommonJS module's ``source`` (once per ``version`` of ``file``) and keep the function
        it exports (or ``function_name``)."""
        script = (f"__pr.pick(__pr.module({json.dumps(source)}, {json.dumps(file.as_posix())}, {version}), "
                  f"{json.dumps(function_name or '')}, {json.dumps(label)})")
        return JsFunction(self, self._eval_int(script), label)

    def call(self, index: int, args: tuple[Any, ...]) -> Any:
        """Call kept function ``index``; ``undefined`` comes back as None."""
        arguments = json.dumps(list(args), ensure_ascii=False, default=_jsonable)
        answer = self._run(f"__pr.call({index}, {json.dumps(arguments)})")
        decoded = json.loads(answer)
        if "e" in decoded:
            raise JsError(decoded["e"])
        return decoded.get("v")

    def close(self) -> None:
        """Stop V8 while the interpreter is whole (left to garbage collection at exit, it can hang)."""
        with self._lock:
            self._racer.close()

    def _eval_int(self, script: str) -> int:
        result = self._run(script)
        assert isinstance(result, int)
        return result

    def _run(self, script: str) -> Any:
        from py_mini_racer import JSEvalException, JSPromise, JSPromiseError, JSTimeoutException, JSValueError

        with self._lock:
            started = time.monotonic()
            try:
                result = self._racer.eval(script, timeout_sec=self.time_limit)
                if isinstance(result, JSPromise):
                    result = result.get(timeout=max(0.001, self.time_limit - (time.monotonic() - started)))
            except JSTimeoutException:
                raise JsError(f"took longer than {self.time_limit:g} s and was stopped (an endless loop, "
                              "or a Promise that never settles?)") from None
            except (JSEvalException, JSPromiseError, JSValueError) as error:  # thrown, rejected, out of memory...
                raise JsError(_first_line(str(error))) from None
        return result


def _first_line(message: str) -> str:
    """mini-racer's message is ``<where>:1: SyntaxError: ...`` plus the source line and a stack;
    keep ``SyntaxError: ...``."""
    for line in message.splitlines():
        found = re.search(r"\b[A-Za-z_$]*(?:Error|Exception)\b.*", line)
        if found:
            return found.group(0).strip()
    return message.strip().splitlines()[0] if message.strip() else "JavaScript failed"


def _jsonable(value: Any) -> Any:
    """What JSON cannot hold directly crosses as promptfoo's JavaScript would see it: as text."""
    if isinstance(value, (set, tuple, frozenset)):
        return list(value)
    return str(value)


def _new_racer() -> Any:
    """A MiniRacer made on a thread with no asyncio loop, so it runs its own event loop thread
    whatever thread (or running loop) asked for the engine first."""
    try:
        from py_mini_racer import MiniRacer
    except ImportError:
        raise ConfigError(f"JavaScript needs the js extra: {INSTALL_HINT}") from None
    made: list[Any] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            made.append(MiniRacer())
        except BaseException as error:  # handed to the caller's thread
            errors.append(error)

    thread = threading.Thread(target=make, name="pytest-replicate-js", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return made[0]


_engine: Engine | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    """The process's engine, started on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
            atexit.register(_engine.close)
        return _engine


def engine_for(where: str) -> Engine:
    """The engine, or a :class:`ConfigError` naming ``where`` and the extra to install."""
    import importlib.util

    if importlib.util.find_spec("py_mini_racer") is None:
        raise ConfigError(f"JavaScript in {where} needs the js extra: {INSTALL_HINT}")
    return engine()
