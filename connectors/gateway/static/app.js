// The lzsync status page: sync status per layer, last synced commit, open alerts, plugin sections and the
// live activity feed over the gateway's WebSocket (snapshot, then live; resumes from its cursor).
import { age, badge, duration, el, freshness, refreshAges, renderSection, toMs } from "./sections.js";
import { sentence } from "./feed_text.js";

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem("lzsync.token") || "",
  cursor: null,
  paused: false,
  held: [],
  sections: [],
  timers: new Map(),
  backoff: 500,
};

/** The connection badge when the gateway wants a token: no reconnect loop until one is entered. */
function showNeedsToken() {
  const conn = $("conn");
  conn.textContent = "needs a token";
  conn.dataset.state = "auth";
  conn.title = "this gateway needs a token: enter one with the read scope (LZSYNC_TOKEN works)";
}

// ---- API -------------------------------------------------------------------------------------------
async function api(path) {
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  const res = await fetch(path, { headers });
  if (res.status === 401) {
    state.needsToken = true;
    $("token-form").hidden = false;
    showNeedsToken();
  } else if (res.ok) state.needsToken = false;
  let body = null;
  try {
    body = await res.json();
  } catch { /* not JSON */ }
  return { status: res.status, body };
}

/** Runs `fn` at most once per `ms` per name, trailing (events arrive in bursts). */
function debounce(name, fn, ms = 120) {
  if (state.timers.has(name)) return;
  state.timers.set(
    name,
    setTimeout(() => {
      state.timers.delete(name);
      fn();
    }, ms),
  );
}

// ---- Sync status per layer ---------------------------------------------------------------------------
const LAYER_COLUMNS = ["Layer", "Status", "Last sync", "Freshness", "Items", "Errors", "Next sync"];
function layerRows(body) {
  const v = body?.layers ?? body;
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object") return Object.entries(v).map(([layer, s]) => ({ layer, ...s }));
  return [];
}

async function loadLayers() {
  const { status, body } = await api("/api/v1/sync/sync-status");
  const tbody = $("layers").tBodies[0];
  const note = $("layers-note");
  if (status !== 200) {
    tbody.replaceChildren();
    note.textContent = status === 404
      ? "no sync-status source is loaded"
      : `sync status unavailable (${status})`;
    return;
  }
  const rows = layerRows(body);
  note.textContent = rows.length ? "" : "no layer has reported yet";
  tbody.replaceChildren(...rows.map((r) => {
    const tr = el("tr");
    tr.dataset.layer = r.layer ?? r.name ?? "";
    const last = r.last_sync ?? r.lastSync;
    const fresh = typeof r.freshness_seconds === "number" ? r.freshness_seconds : null;
    const items = r.items_synced ?? r.itemsSynced;
    const errors = Array.isArray(r.errors) ? r.errors.length : (r.errors ?? 0);
    const cells = [
      el("strong", null, r.layer ?? r.name ?? "?"),
      badge(r.status),
      ageSpan(last),
      freshSpan(last, fresh),
      el("span", null, typeof items === "number" ? items.toLocaleString() : (items ?? "—")),
      el("span", errors ? "bad" : null, String(errors)),
      r.next_sync ? ageSpan(r.next_sync) : el("span", "muted", "—"),
    ];
    cells.forEach((c, i) => {
      const td = tr.insertCell();
      td.dataset.label = LAYER_COLUMNS[i];
      td.append(c);
    });
    if (Array.isArray(r.errors) && r.errors.length) tr.title = r.errors.map(String).join("\n");
    return tr;
  }));
}

function ageSpan(v) {
  if (v === undefined || v === null) return el("span", "muted", "never");
  const s = el("span", null, age(v));
  s.dataset.age = String(v);
  s.title = new Date(toMs(v)).toLocaleString();
  return s;
}

/** Freshness: time since the last successful sync, kept current; else the layer's own figure. */
function freshSpan(last, seconds) {
  if (last) {
    const s = el("span", "fresh", freshness(last));
    s.dataset.fresh = String(last);
    return s;
  }
  return el("span", "muted", seconds === null ? "—" : duration(seconds));
}

// ---- Last synced commit -------------------------------------------------------------------------------
async function loadCommit() {
  const { status, body } = await api("/api/v1/sync/git");
  const box = $("commit");
  if (status !== 200) {
    box.replaceChildren(
      el("p", "note", status === 404 ? "no git sync source is loaded" : `unavailable (${status})`),
    );
    return;
  }
  const c = body?.commit ?? (body?.sha ? body : null);
  if (!c) {
    box.replaceChildren(el("p", "note", "nothing synced yet"));
    return;
  }
  const dl = el("dl", "kv");
  const add = (k, v) => {
    dl.append(el("dt", null, k));
    const dd = el("dd");
    dd.append(v instanceof Node ? v : document.createTextNode(v ?? "—"));
    dl.append(dd);
  };
  const sha = el("code", "sha", String(c.sha ?? c.id ?? "").slice(0, 12));
  sha.dataset.sha = String(c.sha ?? c.id ?? "");
  sha.title = sha.dataset.sha;
  add("commit", sha);
  const subject = String(c.message ?? "").split("\n")[0];
  const message = el("span", "clamp", subject);
  message.title = subject;
  add("message", message);
  if (c.author) {
    add("author", typeof c.author === "object" ? (c.author.name ?? JSON.stringify(c.author)) : c.author);
  }
  const when = c.timestamp ?? c.committed_at ?? c.synced_at ?? body.synced_at;
  if (when) add("time", ageSpan(when));
  if (body.repo || body.branch) add("source", [body.repo, body.branch].filter(Boolean).join(" @ "));
  const files = body.files ?? body.tracked_files;
  if (Array.isArray(files)) add("tracked files", String(files.length));
  box.replaceChildren(dl);
}

// ---- Open alerts ----------------------------------------------------------------------------------------
async function loadAlerts() {
  const { status, body } = await api("/api/v1/sync/alerts");
  const ul = $("alerts");
  const note = $("alerts-note");
  if (status !== 200) {
    ul.replaceChildren();
    note.textContent = status === 404 ? "no alert source is loaded" : `alerts unavailable (${status})`;
    return;
  }
  const alerts = Array.isArray(body) ? body : (body?.alerts ?? []);
  note.textContent = alerts.length ? "" : "no open alerts";
  ul.replaceChildren(...alerts.map((a) => {
    const li = el("li");
    li.append(badge(a.severity ?? "warning"), " ", el("strong", null, a.kind ?? a.type ?? a.name ?? "alert"));
    if (a.layer) li.append(el("span", "muted", ` [${a.layer}]`));
    li.append(" ", a.message ?? "");
    const since = a.since ?? a.ts ?? a.opened_at;
    if (since) li.append(" ", ageSpan(since));
    return li;
  }));
}

// ---- Plugin sections ------------------------------------------------------------------------------------
async function loadGateway() {
  const { status, body } = await api("/api/v1/gateway");
  if (status !== 200) return;
  $("readiness").textContent = body.ready ? "" : "catching up…";
  const select = $("topic-filter");
  for (const t of body.topics) {
    if (![...select.options].some((o) => o.value === t.name)) select.append(new Option(t.name, t.name));
  }
  state.sections = body.sections;
  const host = $("plugin-sections");
  for (const def of body.sections) {
    if ($(`section-${def.id}`)) continue;
    const sec = el("section", def.wide ? "panel wide" : "panel");
    sec.id = `section-${def.id}`;
    sec.append(el("h2", null, def.title), el("div", "body"));
    host.append(sec);
    loadSection(def);
    if (def.refreshMs) setInterval(() => loadSection(def), Math.max(1000, def.refreshMs));
  }
}

async function loadSection(def) {
  const body = $(`section-${def.id}`)?.querySelector(".body");
  if (!body) return;
  const { status, body: data } = await api(def.source);
  if (status !== 200) {
    body.replaceChildren(el("p", "note", `unavailable (${status})`));
    return;
  }
  try {
    await renderSection(def, body, data);
  } catch (err) {
    body.replaceChildren(el("p", "note", `cannot render: ${err.message}`));
  }
}

function refreshFor(topic, type) {
  if (topic === "lz.sync.status.v1") debounce("layers", loadLayers);
  if (topic.startsWith("lz.git.") || topic === "lz.sync.status.v1") debounce("commit", loadCommit);
  if (topic.startsWith("lz.alerts.") || /alert/i.test(type ?? "")) debounce("alerts", loadAlerts);
  for (const def of state.sections) {
    if (def.refreshOn?.includes(topic)) debounce(`section-${def.id}`, () => loadSection(def));
  }
}

// ---- Live activity feed ---------------------------------------------------------------------------------
const MAX_FEED = 200;

function matches(ev) {
  const topic = $("topic-filter").value;
  const text = $("text-filter").value.trim().toLowerCase();
  if (topic && ev.topic !== topic) return false;
  if (!text) return true;
  return `${ev.topic} ${ev.type} ${ev.key ?? ""} ${sentence(ev)?.text ?? ""} ${JSON.stringify(ev.data)}`
    .toLowerCase().includes(text);
}

/**
 * A record value as `key=value` pairs (nulls left out; strings bare, quoted when they hold spaces), cut to
 * 400 characters: it wraps at spaces where raw JSON would not.
 */
function summary(data) {
  if (data === null) return "(deleted)";
  if (typeof data !== "object") return String(data);
  const parts = [];
  for (const [k, v] of Object.entries(data)) {
    if (v === null || v === undefined) continue;
    const s = typeof v === "string" ? (/\s/.test(v) || v === "" ? JSON.stringify(v) : v) : JSON.stringify(v);
    parts.push(`${k}=${s}`);
  }
  const text = parts.join(" ");
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

function feedItem(ev) {
  const li = el("li", "fresh");
  li.dataset.topic = ev.topic;
  li.dataset.type = ev.type;
  li.dataset.key = ev.key ?? "";
  li.ev = ev;
  const t = new Date(ev.ts);
  const time = el("span", "muted time", Number.isNaN(t.getTime()) ? "" : t.toLocaleTimeString());
  const told = sentence(ev);
  if (told) {
    // A sentence, linked to its object; the record's fields stay one click away.
    li.classList.add("told");
    const what = el(told.href ? "a" : "span", "what", told.text);
    if (told.href) {
      what.href = told.href;
      what.target = "_blank";
      what.rel = "noopener";
    }
    what.title = `${ev.topic} · ${ev.type} · ${ev.key ?? ""}`;
    li.append(time, what, el("span", "data", summary(ev.data)));
  } else {
    const type = el("span", "mono type", ev.type);
    type.title = ev.topic;
    li.append(time, type, el("span", "mono key", ev.key ?? ""), el("span", "data", summary(ev.data)));
  }
  li.hidden = !matches(ev);
  return li;
}

function addToFeed(ev) {
  const feed = $("feed");
  feed.prepend(feedItem(ev));
  while (feed.children.length > MAX_FEED) feed.lastElementChild.remove();
}

function updateFeedStatus() {
  $("feed-status").textContent = state.paused ? `paused · ${state.held.length} new` : "";
}

function onFrame(ev) {
  state.cursor = ev.cursor;
  if (ev.topic === "~gateway") {
    if (ev.type === "resync") refreshAll();
    return;
  }
  if (ev.snapshot) return; // the panels load their own state; the feed shows activity
  refreshFor(ev.topic, ev.type);
  if (state.paused) {
    state.held.push(ev);
    if (state.held.length > 1000) state.held.shift();
    updateFeedStatus();
  } else addToFeed(ev);
}

function connect() {
  // The panels read their own state over REST: the feed needs activity only, no snapshot of the views
  // (which may hold large synced files).
  const params = new URLSearchParams({ snapshot: "0" });
  if (state.cursor) params.set("cursor", state.cursor);
  if (state.token) params.set("access_token", state.token);
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws/sync-events?${params}`);
  const conn = $("conn");
  ws.onopen = () => {
    conn.textContent = "live";
    conn.dataset.state = "live";
    state.backoff = 500;
  };
  ws.onmessage = (m) => {
    try {
      onFrame(JSON.parse(m.data));
    } catch (err) {
      console.error("bad frame", err);
    }
  };
  ws.onclose = (e) => {
    if (e.code === 1013 && /cursor=([A-Za-z0-9_-]+)/.test(e.reason)) state.cursor = RegExp.$1;
    const retry = () => {
      conn.textContent = "reconnecting";
      conn.dataset.state = "connecting";
      setTimeout(connect, state.backoff);
      state.backoff = Math.min(10_000, state.backoff * 2);
    };
    if (e.code !== 1006) return retry();
    // 1006 may be a refused upgrade (401): ask the gateway; wait for a token instead of retrying blindly.
    loadGateway().then(() => {
      if (state.needsToken) state.waitingForToken = true;
      else retry();
    });
  };
}

function refreshAll() {
  loadLayers();
  loadCommit();
  loadAlerts();
  for (const def of state.sections) loadSection(def);
}

// ---- Wiring ---------------------------------------------------------------------------------------------
$("pause").onclick = () => {
  state.paused = !state.paused;
  $("pause").textContent = state.paused ? "Resume" : "Pause";
  if (!state.paused) {
    for (const ev of state.held) addToFeed(ev);
    state.held = [];
  }
  updateFeedStatus();
};
const refilter = () => {
  for (const li of $("feed").children) li.hidden = !matches(li.ev);
};
$("feed").onclick = (e) => e.target.closest?.("li")?.classList.toggle("open");
$("topic-filter").onchange = refilter;
$("text-filter").oninput = refilter;
$("token-form").onsubmit = (e) => {
  e.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem("lzsync.token", state.token);
  $("token-form").hidden = true;
  loadGateway().then(() => {
    refreshAll();
    if (state.waitingForToken && !state.needsToken) {
      state.waitingForToken = false;
      connect();
    }
  });
};
setInterval(() => refreshAges(), 1000);
setInterval(() => debounce("layers", loadLayers), 30_000);

await loadGateway();
refreshAll();
if (state.needsToken) state.waitingForToken = true;
else connect();
