// Generic rendering helpers of the status page, shared by the built-in panels and by plugin sections
// (GatewayPlugin.statusSections). Everything is written with textContent: data never becomes markup.

/** Creates an element with optional class and text. */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** Epoch milliseconds of an ISO string or epoch (s or ms) number; NaN if not a time. */
export function toMs(v) {
  if (typeof v === "number") return v < 1e12 ? v * 1000 : v;
  if (typeof v === "string" && v) return Date.parse(v);
  return NaN;
}

/** "12s ago", "3m ago", "in 5h". */
export function age(v, now = Date.now()) {
  const t = toMs(v);
  if (Number.isNaN(t)) return "—";
  const d = duration(Math.abs(now - t) / 1000);
  return t <= now ? `${d} ago` : `in ${d}`;
}

/** A duration in seconds as "42s", "5m", "3h 10m", "2d". */
export function duration(s) {
  if (typeof s !== "number" || !Number.isFinite(s)) return "—";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

/** A value at a dotted path ("a.b.c"); the whole value for an empty path. */
export function at(obj, path) {
  if (!path) return obj;
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

/** A status badge. */
export function badge(text) {
  const b = el("span", "badge", text ?? "—");
  b.dataset.state = String(text ?? "").toLowerCase();
  return b;
}

/** One cell value rendered per a StatusColumn format. */
export function formatted(value, format) {
  if (value === undefined || value === null) return document.createTextNode("—");
  switch (format) {
    case "status":
      return badge(value);
    case "time": {
      const t = toMs(value);
      const span = el("span", null, Number.isNaN(t) ? String(value) : new Date(t).toLocaleString());
      span.dataset.time = String(value);
      return span;
    }
    case "age": {
      const span = el("span", "age", age(value));
      span.dataset.age = String(value);
      return span;
    }
    case "percent":
      return document.createTextNode(
        typeof value === "number" ? `${(value <= 1 ? value * 100 : value).toFixed(1)}%` : String(value),
      );
    case "number":
      return document.createTextNode(typeof value === "number" ? value.toLocaleString() : String(value));
    case "code":
      return el("code", null, typeof value === "string" ? value : JSON.stringify(value));
    case "sha": {
      const full = String(value);
      const c = el("code", "sha", full.slice(0, 12));
      c.dataset.sha = full;
      c.title = full;
      return c;
    }
    default:
      return document.createTextNode(typeof value === "object" ? JSON.stringify(value) : String(value));
  }
}

/** Re-renders every relative time ("3m ago") on the page. */
export function refreshAges(root = document) {
  for (const e of root.querySelectorAll("[data-age]")) e.textContent = age(e.dataset.age);
  for (const e of root.querySelectorAll("[data-fresh]")) e.textContent = freshness(e.dataset.fresh);
}

/** Time since `v` as a bare duration ("42s", "3h 10m"): how fresh data synced at `v` is. */
export function freshness(v, now = Date.now()) {
  const t = toMs(v);
  return Number.isNaN(t) ? "—" : duration(Math.max(0, now - t) / 1000);
}

/** Wraps a table so that it scrolls inside its card (sideways when too wide, down when too long). */
function scroller(tableEl) {
  const box = el("div", "table-scroll");
  box.append(tableEl);
  return box;
}

function table(rows, columns) {
  if (!Array.isArray(rows)) rows = rows && typeof rows === "object" ? Object.values(rows) : [];
  if (rows.length === 0) return el("p", "note", "nothing yet");
  const cols = columns?.length ? columns : Object.keys(rows[0] ?? {}).slice(0, 8).map((key) => ({ key }));
  const t = el("table");
  const head = t.createTHead().insertRow();
  for (const c of cols) head.append(el("th", null, c.label ?? c.key));
  const body = t.createTBody();
  for (const r of rows.slice(0, 500)) {
    const tr = body.insertRow();
    for (const c of cols) {
      const td = tr.insertCell();
      td.dataset.label = c.label ?? c.key; // the card's label on narrow screens (style.css)
      // Only free text may wrap; badges, times, numbers and ids stay on one line (see style.css).
      if (c.format && c.format !== "text") td.className = "nowrap";
      td.append(formatted(typeof r === "object" ? at(r, c.key) : r, c.format));
    }
  }
  const out = document.createDocumentFragment();
  out.append(scroller(t));
  if (rows.length > 500) out.append(el("p", "note", `${rows.length - 500} more not shown`));
  else if (rows.length > 12) out.append(el("p", "note", `${rows.length} rows`)); // more than fit unscrolled
  return out;
}

function kv(obj, columns) {
  const dl = el("dl", "kv");
  const keys = columns?.length ? columns : Object.keys(obj ?? {}).map((key) => ({ key }));
  for (const c of keys) {
    dl.append(el("dt", null, c.label ?? c.key));
    const dd = el("dd");
    dd.append(formatted(at(obj, c.key), c.format));
    dl.append(dd);
  }
  return dl;
}

function list(items) {
  if (!Array.isArray(items) || items.length === 0) return el("p", "note", "nothing yet");
  const ul = el("ul");
  for (const i of items.slice(0, 200)) {
    ul.append(el("li", null, typeof i === "string" ? i : JSON.stringify(i)));
  }
  return ul;
}

function score(v) {
  const n = typeof v === "number" ? (v <= 1 ? v * 100 : v) : NaN;
  const d = el("div", "score", Number.isNaN(n) ? "—" : `${n.toFixed(1)}%`);
  d.dataset.score = String(v);
  return d;
}

/** Renders a plugin section's data into `body` per its definition. */
export async function renderSection(def, body, data) {
  const value = at(data, def.path);
  body.replaceChildren();
  if (def.module) {
    const mod = await import(def.module);
    mod.render(body, value);
    return;
  }
  const render = { table, kv, list, score }[def.render] ?? table;
  body.append(render(value, def.columns));
}
