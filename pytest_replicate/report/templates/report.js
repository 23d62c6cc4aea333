// Filters and expanded cases. Everything from the report's data is written with textContent,
// never as HTML. The cases' JSON is parsed on first need, so a large report opens at once.
(() => {
  "use strict";
  const root = document.getElementById("report");
  const rows = Array.from(document.querySelectorAll(".row"));
  const shown = document.getElementById("shown");
  const search = document.getElementById("search");
  const buttons = Array.from(document.querySelectorAll("[data-filter]"));
  const required = { failed: "has-fail", passed: "all-pass", errors: "has-error", changed: "has-changed",
    flaky: "has-flaky", drifted: "has-drift" };
  let data = null;
  let texts = null;

  const cases = () => data || (data = JSON.parse(document.getElementById("cases").textContent));
  const fileOf = (element) => cases().files[element.closest("section").dataset.file];
  const asText = (value) => (value === null || value === undefined ? "" :
    typeof value === "string" ? value : JSON.stringify(value, null, 2));

  function count() {
    const need = required[root.dataset.status];
    let visible = 0;
    for (const row of rows) {
      if (!row.classList.contains("nomatch") && (!need || row.classList.contains(need))) visible++;
    }
    shown.textContent = `${visible} of ${rows.length} rows shown`;
  }

  function rowTexts() {
    return rows.map((row) => {
      const file = fileOf(row);
      const entry = file.rows[row.dataset.row];
      const parts = [entry.description || "", entry.test, JSON.stringify(entry.vars)];
      for (const index of entry.cells) {
        if (index === null) continue;
        const item = file.cases[index];
        parts.push(asText(item.output), item.reason || "", item.error || "", item.nodeid || "");
      }
      return parts.join("\n").toLowerCase();
    });
  }

  function filterText() {
    const query = search.value.trim().toLowerCase();
    if (query && !texts) texts = rowTexts();
    rows.forEach((row, index) => row.classList.toggle("nomatch", query !== "" && !texts[index].includes(query)));
    count();
  }

  let pending = 0;
  search.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(filterText, 150); });
  search.addEventListener("change", () => { clearTimeout(pending); filterText(); });

  for (const button of buttons) {
    button.addEventListener("click", () => {
      root.dataset.status = button.dataset.filter;
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      count();
    });
  }

  const fixed = (value) => Number(value).toFixed(2);

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function block(parent, title, text) {
    if (text === "") return;
    parent.append(element("h4", title), element("pre", text));
  }

  function assertionList(parent, assertions, depth) {
    for (const item of assertions) {
      const line = element("div", undefined, `assertion ${item.passed ? "ok" : "no"}`);
      line.style.marginLeft = `${depth * 14}px`;
      const score = item.score === null || item.score === undefined ? "" : ` ${Number(item.score).toFixed(2)}`;
      line.append(element("span", `${item.passed ? "✓" : "✗"} ${item.type || "(group)"}`, "verdict"),
        element("span", `${item.metric ? ` [${item.metric}]` : ""}${score}`, "muted"));
      const value = asText(item.value);
      if (value) line.title = value;
      if (item.reason) line.append(element("div", item.reason, "because"));
      parent.append(line);
      assertionList(parent, item.children || [], depth + 1);
    }
  }

  function detail(item, entry) {
    const box = element("div", undefined, "detail");
    block(box, "Error", item.error || "");
    block(box, "Output", asText(item.output));
    if (item.assertions && item.assertions.length) {
      const list = element("div", undefined, "assertions");
      assertionList(list, item.assertions, 0);
      box.append(element("h4", "Assertions"), list);
    } else {
      block(box, "Reason", item.reason || "");
    }
    block(box, "Prompt", asText(item.prompt));
    block(box, "Vars", Object.keys(entry.vars).length ? asText(entry.vars) : "");
    const comparison = item.comparison;
    if (comparison) {
      const delta = comparison.score_delta;
      block(box, "Baseline", [`status: ${comparison.status}`, comparison.verdict ? `verdict: ${comparison.verdict}` : "",
        comparison.baseline_score !== null && comparison.baseline_score !== undefined ? `baseline score: ${comparison.baseline_score}` : "",
        delta ? `score delta: ${delta > 0 ? "+" : ""}${Number(delta).toFixed(2)}` : "",
        comparison.output_changed ? "output changed" : ""].filter(Boolean).join("\n"));
    }
    const repeat = item.repeat;
    if (repeat) {
      const reducer = repeat.reducer || {};
      const interval = Array.isArray(repeat.interval) && repeat.interval.length === 2 ?
        `95% interval: ${fixed(repeat.interval[0])}–${fixed(repeat.interval[1])}` : "";
      block(box, "Repeat", [`${repeat.passed}/${repeat.ran} samples passed (${repeat.count} asked)`,
        `reducer: ${reducer.name || "?"}${reducer.k !== null && reducer.k !== undefined ? ` k=${reducer.k}` : ""}` +
          `${reducer.threshold !== null && reducer.threshold !== undefined ? ` threshold=${reducer.threshold}` : ""}`,
        repeat.mean_score !== null && repeat.mean_score !== undefined ? `mean score: ${fixed(repeat.mean_score)}` : "",
        interval, repeat.flaky ? "flaky: some samples passed and some failed" : ""].filter(Boolean).join("\n"));
    }
    if (item.samples && item.samples.length) {
      const list = element("div", undefined, "samples");
      for (const sample of item.samples) {
        const status = sample.error ? "ERROR" : sample.passed ? "PASS" : "FAIL";
        const line = element("div", undefined, `sample ${sample.passed && !sample.error ? "ok" : "no"}`);
        const score = sample.score === null || sample.score === undefined ? "" : ` score ${fixed(sample.score)}`;
        line.append(element("span", `#${sample.index} ${status}`, "verdict"), element("span", score, "muted"));
        const why = sample.error || sample.reason || "";
        if (why) line.append(element("div", why, "because"));
        if (sample.output) line.append(element("pre", sample.output));
        list.append(line);
      }
      box.append(element("h4", `Samples (${item.samples.length})`), list);
    }
    const drift = item.drift;
    if (drift) {
      const replayed = drift.replayed;
      block(box, "Drift", [drift.verdict ? `verdict: ${drift.verdict}` : "verdict held",
        drift.output_changed ? "output changed" : "output unchanged",
        replayed ? `replayed: ${replayed.error ? "error" : replayed.passed ? "pass" : "fail"}` +
          `${replayed.score !== null && replayed.score !== undefined ? ` score ${fixed(replayed.score)}` : ""}` :
          "no cassette: nothing compared",
        drift.updated ? "cassette updated" : ""].filter(Boolean).join("\n"));
      block(box, "Drift diff (- replayed, + live)", drift.diff || "");
      if (replayed) {
        block(box, "Replayed error", replayed.error || "");
        block(box, "Replayed output", asText(replayed.output));
      }
    }
    block(box, "Call", [
      item.live ? "live" : "replayed",
      item.latency_ms !== null && item.latency_ms !== undefined ? `latency: ${Math.round(item.latency_ms)} ms` : "",
      item.cost !== null && item.cost !== undefined ? `cost: $${Number(item.cost).toFixed(6)}` : "",
      item.prediction_id ? `prediction: ${item.prediction_id}` : "",
      item.cassette ? `cassette: ${item.cassette}` : "",
      item.nodeid ? `test: ${item.nodeid}` : "",
    ].filter(Boolean).join("\n"));
    return box;
  }

  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || details.dataset.filled) return;
    const cell = details.closest("[data-case]");
    if (!cell) return;
    const file = fileOf(cell);
    details.append(detail(file.cases[cell.dataset.case], file.rows[cell.closest(".row").dataset.row]));
    details.dataset.filled = "true";
  }, true);

  document.addEventListener("click", (event) => {
    if (event.target.classList.contains("image")) event.target.classList.toggle("large");
  });

  count();
})();
