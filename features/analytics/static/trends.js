// Trend charts of the analytics section (status page): SVG lines of the last days of daily_metrics, open
// violations, sync latency per layer and cost, each with its forecast and the method used. Data never becomes
// markup: every text is set with textContent, shapes with attributes.

const NS = "http://www.w3.org/2000/svg";
const W = 320;
const H = 110;
const PAD = 4;
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

const fmt = (v) =>
  v === null || v === undefined || Number.isNaN(v)
    ? "—"
    : Math.abs(v) >= 100
    ? Math.round(v).toLocaleString()
    : Number(v.toFixed(2)).toString();

/** One chart: `lines` are {label, points: [{date, value}]} over the dates `dates`. */
function chart(id, title, dates, lines, forecast) {
  const box = el("figure", "trend-chart");
  box.dataset.series = id;
  box.append(el("figcaption", null, title));
  const values = lines.flatMap((l) => l.points.map((p) => p.value)).filter((v) =>
    v !== null && Number.isFinite(v)
  );
  if (values.length === 0) {
    box.append(el("p", "note", "no data yet"));
    return box;
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const xi = new Map(dates.map((d, i) => [d, i]));
  const x = (d) => PAD + ((xi.get(d) ?? 0) / Math.max(1, dates.length - 1)) * (W - 2 * PAD);
  const y = (v) => H - PAD - ((v - lo) / (hi - lo)) * (H - 2 * PAD);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: H, role: "img" });
  s.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "none", stroke: "#e5e7eb" }));
  lines.forEach((l, i) => {
    const pts = l.points.filter((p) => p.value !== null && Number.isFinite(p.value) && xi.has(p.date));
    if (pts.length === 0) return;
    const line = svg("polyline", {
      points: pts.map((p) => `${x(p.date).toFixed(1)},${y(p.value).toFixed(1)}`).join(" "),
      fill: "none",
      stroke: COLORS[i % COLORS.length],
      "stroke-width": 1.5,
    });
    line.dataset.label = l.label;
    const tip = svg("title", {});
    tip.textContent = `${l.label}: last ${fmt(pts.at(-1).value)} on ${pts.at(-1).date}`;
    line.append(tip);
    s.append(line);
  });
  box.append(s);
  const legend = el("p", "legend");
  lines.forEach((l, i) => {
    const last = l.points.filter((p) => p.value !== null).at(-1);
    const item = el("span", null, `${l.label} ${last ? fmt(last.value) : "—"}`);
    item.dataset.color = COLORS[i % COLORS.length];
    legend.append(item, " ");
  });
  legend.append(el("span", "range", `(${fmt(lo)}–${fmt(hi)}, ${dates[0]} to ${dates.at(-1)})`));
  box.append(legend);
  if (forecast) {
    const f = el("p", "forecast");
    if (forecast.points && forecast.points.length) {
      f.textContent = forecast.points.map((p) => `${p.date}: ${fmt(p.value)} (${fmt(p.low)}–${fmt(p.high)})`)
        .join("; ") + `, trend ${fmt(forecast.slope_per_day)}/day`;
    } else f.textContent = `no forecast: ${forecast.note ?? "not enough data"}`;
    box.append(f);
    box.append(el("p", "note method", `Forecast: ${forecast.method}.`));
  }
  return box;
}

/** Adds the charts' stylesheet once (same origin: the page's CSP allows it, inline styles it does not). */
function stylesheet() {
  if (document.querySelector("link[data-analytics-trends]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/analytics/trends.css";
  link.dataset.analyticsTrends = "";
  document.head.append(link);
}

/** Renders the `/api/v1/analytics/trends` answer into `root`. */
export function render(root, data) {
  stylesheet();
  root.replaceChildren();
  if (!data || !Array.isArray(data.days)) {
    root.append(el("p", "note", "analytics is not available"));
    return;
  }
  const dates = [];
  for (let t = Date.parse(`${data.from}T00:00:00Z`); t <= Date.parse(`${data.to}T00:00:00Z`); t += 86400000) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  const series = (k) => data.days.map((d) => ({ date: d.date, value: d[k] }));
  const grid = el("div", "trend-grid");
  grid.append(
    chart("resources", "Resources", dates, [
      { label: "resources", points: series("resources") },
      { label: "with violations", points: series("resources_with_violations") },
    ], data.forecasts?.resources),
    chart("compliance", "Compliance score (%)", dates, [{
      label: "score",
      points: series("compliance_score"),
    }], data.forecasts?.compliance_score),
    chart("violations", "Open violations", dates, [{ label: "open", points: series("open_violations") }]),
    chart(
      "latency",
      "Sync latency per layer (s, daily mean)",
      dates,
      (data.sync_latency ?? []).map((l) => ({
        label: l.layer,
        points: l.points.map((p) => ({ date: p.date, value: p.seconds })),
      })),
    ),
    chart("cost", "Cost per day", dates, [{ label: "cost", points: series("cost") }], data.forecasts?.cost),
  );
  root.append(grid);
}
