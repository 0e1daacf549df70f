/**
 * The "predictive insights" of layer 5, kept simple and explained: an ordinary least-squares line through the
 * last daily values of a series, projected a few days ahead with its 95% prediction interval. The method is
 * returned next to the numbers so the page can say how they were made.
 */

/** One daily value (`date` as YYYY-MM-DD). */
export interface DailyPoint {
  date: string;
  value: number;
}

/** A projected day. */
export interface ForecastPoint {
  date: string;
  value: number;
  /** 95% prediction interval. */
  low: number;
  high: number;
}

/** The fit and its projections, or why there is none. */
export interface Forecast {
  method: string;
  /** Days used (the last `window` with a value). */
  n: number;
  slope_per_day: number | null;
  /** Coefficient of determination of the fit (null for a flat series). */
  r2: number | null;
  points: ForecastPoint[];
  /** Set when there are too few points to fit (fewer than 3). */
  note?: string;
}

const DAY = 86_400_000;

/** Two-sided 95% Student t quantiles for 1..30 degrees of freedom (above: the normal 1.96). */
const T95 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];
const t95 = (dof: number) => (dof <= 30 ? T95[dof - 1] : 1.96);

const round = (v: number) => Math.round(v * 1000) / 1000;

/**
 * Fits the last `window` points of `series` (sorted by date, gaps allowed: x is the day number) and
 * projects `horizons` days after the last one; projections are clamped to `bounds` (a score stays 0..100).
 */
export function linearForecast(
  series: DailyPoint[],
  window = 30,
  horizons: number[] = [7, 30],
  bounds: [number, number] = [-Infinity, Infinity],
): Forecast {
  const clamp = (v: number) => Math.min(bounds[1], Math.max(bounds[0], v));
  const pts = series.filter((p) => Number.isFinite(p.value)).slice(-window);
  const method = `ordinary least squares over the last ${pts.length} daily values (window ${window} days), ` +
    `95% prediction interval (Student t, n - 2 degrees of freedom)`;
  if (pts.length < 3) {
    return {
      method,
      n: pts.length,
      slope_per_day: null,
      r2: null,
      points: [],
      note: "fewer than 3 days of data",
    };
  }
  const x0 = Date.parse(`${pts[0].date}T00:00:00Z`);
  const xs = pts.map((p) => (Date.parse(`${p.date}T00:00:00Z`) - x0) / DAY);
  const ys = pts.map((p) => p.value);
  const n = pts.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - (intercept + slope * xs[i])) ** 2;
  const s = Math.sqrt(sse / (n - 2));
  const t = t95(n - 2);
  const last = xs[n - 1];
  const points = horizons.map((h) => {
    const x = last + h;
    const y = intercept + slope * x;
    const half = t * s * Math.sqrt(1 + 1 / n + (sxx === 0 ? 0 : (x - mx) ** 2 / sxx));
    return {
      date: new Date(x0 + x * DAY).toISOString().slice(0, 10),
      value: round(clamp(y)),
      low: round(clamp(y - half)),
      high: round(clamp(y + half)),
    };
  });
  return {
    method,
    n,
    slope_per_day: round(slope),
    r2: syy === 0 ? null : round(1 - sse / syy),
    points,
  };
}
