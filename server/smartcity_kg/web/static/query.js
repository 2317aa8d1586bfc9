// The query page: pick a named query or write one, run it (button or Ctrl+Enter), show the
// result as a table (SELECT, ASK) or as Turtle (CONSTRUCT, DESCRIBE), offer it in every
// format, and show each error where it belongs. Everything configurable comes from the
// JSON block #query-page-data that the server renders; nothing is fetched from elsewhere.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("query-page-data").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("query-form");
  const picker = $("picker");
  const description = $("query-description");
  const paramsBox = $("params");
  const editor = $("editor");
  const editedNote = $("edited-note");
  const errorBox = $("error");
  const runButton = $("run");
  const statusBox = $("status");
  const truncatedBox = $("truncated");
  const downloads = $("downloads");
  const results = $("results");
  const catalogue = new Map(data.catalogue.map((q) => [q.name, q]));
  const ACCEPT = "application/sparql-results+json, text/turtle;q=0.9";
  const MAX_GET_URL = 2000;
  let picked = null; // the named query whose text the editor was given

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  // --- picking a named query and its parameters ---------------------------------------------

  function pick(name, values) {
    picked = catalogue.get(name) || null;
    picker.value = picked ? picked.name : "";
    paramsBox.replaceChildren(el("legend", {}, "Parameters"));
    description.textContent = picked ? picked.description : "";
    if (picked) {
      editor.value = picked.query;
      for (const param of picked.params) paramsBox.append(paramField(param, values || {}));
    }
    paramsBox.hidden = !picked || picked.params.length === 0;
    markEdited();
  }

  function paramField(param, values) {
    const id = "param-" + param.name;
    const input = el("input", {
      id: id,
      name: param.name,
      type: "text",
      placeholder: param.default === null ? "any (optional)" : null,
      "aria-describedby": id + "-help " + id + "-error",
    });
    input.value = param.name in values ? values[param.name] : param.default || "";
    input.addEventListener("input", () => setParamError(param.name, ""));
    return el(
      "div",
      { class: "param" },
      el("label", { for: id }, param.name + " (" + param.type + ")"),
      input,
      el("span", { id: id + "-help", class: "param-help" }, param.description),
      el("span", { id: id + "-error", class: "param-error", hidden: "" }),
    );
  }

  function paramValues() {
    const params = new URLSearchParams();
    for (const input of paramsBox.querySelectorAll("input")) {
      if (input.value !== "") params.set(input.name, input.value);
    }
    return params;
  }

  function isNamedRun() {
    return picked !== null && editor.value === picked.query;
  }

  function markEdited() {
    const edited = picked !== null && !isNamedRun();
    editedNote.hidden = !edited;
    paramsBox.disabled = edited;
  }

  // --- running ------------------------------------------------------------------------------

  function request() {
    if (isNamedRun()) {
      return { url: data.queries + "/" + encodeURIComponent(picked.name), params: paramValues() };
    }
    return { url: data.endpoint, params: new URLSearchParams({ query: editor.value }) };
  }

  async function run() {
    clearResult();
    const req = request();
    runButton.disabled = true;
    statusBox.textContent = "Running…";
    const started = performance.now();
    try {
      const response = await send(req);
      if (!response.ok) {
        showError(response.status, (await response.text()).trim());
        statusBox.textContent = "";
        return;
      }
      const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
      const kind = type === "application/sparql-results+json" ? "solutions" : "graph";
      const shown =
        kind === "solutions" ? showSolutions(await response.json()) : showGraph(await response.text());
      const rows = Number(response.headers.get("SPARQL-Results-Rows") || shown);
      showTruncated(response.headers);
      showDownloads(req, kind);
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      statusBox.textContent = rows + (rows === 1 ? " result" : " results") + " in " + seconds + " s";
      remember(req);
    } catch (failure) {
      showError(0, "The server could not be reached or answered badly: " + failure.message);
      statusBox.textContent = "";
    } finally {
      runButton.disabled = false;
    }
  }

  function send(req) {
    const url = req.url + "?" + req.params;
    if (url.length <= MAX_GET_URL) return fetch(url, { headers: { Accept: ACCEPT } });
    return fetch(req.url, {
      method: "POST",
      headers: { Accept: ACCEPT, "Content-Type": "application/x-www-form-urlencoded" },
      body: req.params,
    });
  }

  function remember(req) {
    // Keep the URL shareable: /?name=...&param=... or /?query=...
    const params = isNamedRun() ? new URLSearchParams({ name: picked.name }) : req.params;
    if (isNamedRun()) for (const [key, value] of req.params) params.set(key, value);
    const url = data.root + "?" + params;
    if (url.length <= MAX_GET_URL) history.replaceState(null, "", url);
  }

  // --- showing results ------------------------------------------------------------------------

  function clearResult() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    editor.removeAttribute("aria-invalid");
    for (const name of picked ? picked.params.map((p) => p.name) : []) setParamError(name, "");
    truncatedBox.hidden = true;
    downloads.hidden = true;
    downloads.replaceChildren();
    results.replaceChildren();
  }

  function showSolutions(json) {
    if (typeof json.boolean === "boolean") {
      results.append(el("p", { class: "boolean" }, json.boolean ? "true" : "false"));
      return 1;
    }
    const vars = json.head.vars;
    const head = el("tr", {}, ...vars.map((v) => el("th", { scope: "col" }, v)));
    const body = json.results.bindings.map(
      (binding) => el("tr", {}, ...vars.map((v) => el("td", {}, ...termNodes(binding[v])))),
    );
    results.append(el("table", { id: "results-table" }, el("thead", {}, head), el("tbody", {}, ...body)));
    return body.length;
  }

  function termNodes(term) {
    if (!term) return [];
    if (term.type === "uri") return [iriLink(term.value)];
    if (term.type === "bnode") return ["_:" + term.value];
    if (term.type === "triple") return ["<< … >>"];
    const nodes = [term.value];
    if (term["xml:lang"]) nodes.push(el("span", { class: "lang" }, "@" + term["xml:lang"]));
    else if (term.datatype) nodes.push(el("span", { class: "datatype" }, "^^" + shortName(term.datatype)));
    return nodes;
  }

  function iriLink(iri) {
    const href = localHref(iri);
    if (href === null) return el("span", { class: "iri", title: iri }, shortName(iri));
    return el("a", { href: href, title: iri }, shortName(iri));
  }

  // An IRI under the dataset's base is served by this server: map the base onto our root.
  // Any other IRI is a link only if it is http(s): a result can hold `javascript:` or `data:`
  // IRIs, which as links would run or show someone else's content on a click (null: text).
  function localHref(iri) {
    if (iri.startsWith(data.baseIri)) return data.root + iri.slice(data.baseIri.length);
    return /^https?:/i.test(iri) ? iri : null;
  }

  function shortName(iri) {
    for (const [prefix, namespace] of Object.entries(data.prefixes)) {
      const local = iri.slice(namespace.length);
      if (iri.startsWith(namespace) && /^[\w-]*$/.test(local)) return prefix + ":" + local;
    }
    return iri;
  }

  function showGraph(turtle) {
    // Turtle as text, with each <IRI> a link; text nodes only, never HTML from the response.
    const pre = el("pre", { id: "results-turtle" });
    const iri = /<([^<>"{}|^`\\\s]+)>/g;
    let last = 0;
    for (const match of turtle.matchAll(iri)) {
      const href = localHref(match[1]);
      pre.append(turtle.slice(last, match.index), "<", href === null ? match[1] : el("a", { href: href }, match[1]), ">");
      last = match.index + match[0].length;
    }
    pre.append(turtle.slice(last));
    results.append(pre);
    return (turtle.match(/ \.$/gm) || []).length;
  }

  function showTruncated(headers) {
    if (headers.get("SPARQL-Results-Truncated") !== "true") return;
    const limit = headers.get("SPARQL-Results-Limit");
    truncatedBox.textContent =
      "Truncated: the result was cut at " + (limit || "the row limit") +
      " rows. Narrow the query (more specific patterns, LIMIT) or download it to see what was kept.";
    truncatedBox.hidden = false;
  }

  function showDownloads(req, kind) {
    const params = new URLSearchParams(req.params);
    const base = isNamedRun() ? picked.name : "query";
    downloads.append("Download:");
    for (const format of data.formats.filter((f) => f.kind === kind)) {
      params.set("format", format.name);
      const link = el("a", { href: req.url + "?" + params, download: base + "." + format.extension }, format.name);
      link.title = format.mediaType;
      downloads.append(" ", link);
    }
    downloads.hidden = false;
  }

  // --- errors, where they occur ---------------------------------------------------------------

  function showError(status, message) {
    const param = picked && /^parameter '([^']+)'/.exec(message);
    if (param && picked.params.some((p) => p.name === param[1])) {
      setParamError(param[1], message);
    }
    const where = /line (\d+), column (\d+)/.exec(message);
    if (where) {
      editor.setAttribute("aria-invalid", "true");
      selectPosition(Number(where[1]), Number(where[2]));
    }
    const label = status === 503 ? "Stopped (" + status + "): " : status ? "Error " + status + ": " : "";
    errorBox.textContent = label + message;
    errorBox.hidden = false;
  }

  function setParamError(name, message) {
    const input = $("param-" + name);
    const slot = $("param-" + name + "-error");
    if (!input || !slot) return;
    slot.textContent = message;
    slot.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function selectPosition(line, column) {
    const lines = editor.value.split("\n");
    let offset = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) offset += lines[i].length + 1;
    offset = Math.min(offset + Math.max(column - 1, 0), editor.value.length);
    editor.focus();
    editor.setSelectionRange(offset, Math.min(offset + 1, editor.value.length));
  }

  // --- wiring ---------------------------------------------------------------------------------

  picker.addEventListener("change", () => pick(picker.value, {}));
  editor.addEventListener("input", markEdited);
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  if (data.initial.name && catalogue.has(data.initial.name)) {
    pick(data.initial.name, data.initial.values);
  }
  document.body.dataset.ready = "true";
})();
