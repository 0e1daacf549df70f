/**
 * Loads `lzsync.yaml` once at start: YAML → defaults → validation against `schemas/config.ts` → environment
 * overrides → a frozen typed object. This is the only module that reads the environment; secrets are looked
 * up through {@link Runtime.secret} by the env var names the config declares.
 */
import { armCrashPoint } from "./crash_point.ts";
import { parse as parseYaml } from "yaml";
import { Value } from "@sinclair/typebox/value";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Config } from "../schemas/config.ts";
import { LzError, ValidationError } from "./errors.ts";
import { repoPathProblem } from "./repo_path.ts";
import { parseCidr } from "./cidr.ts";

export type { Config, FabricConfig, PortalRepoConfig } from "../schemas/config.ts";

/** Config plus the environment lookups the pipeline is allowed to make. */
export interface Runtime {
  config: Readonly<Config>;
  /** Where the config came from (a path, or "defaults"). */
  source: string;
  /** Reads a secret from the environment by name; never logged. */
  secret(envName: string): string | undefined;
}

const check = TypeCompiler.Compile(Config);

/** Parses `300ms`, `30s`, `5m`, `6h`, `1d` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new LzError("CONFIG", `"${text}" is not a duration; use e.g. 300ms, 30s, 5m, 6h or 1d`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms"];
  return n * unit;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

function explain(err: { path: string; message: string; schema: any; value: unknown }): string {
  const path = err.path || "/";
  const s = err.schema ?? {};
  if (s.anyOf && s.anyOf.every((x: any) => "const" in x)) {
    return `${path}: ${JSON.stringify(err.value)} is not valid; use one of ${
      s.anyOf.map((x: any) => JSON.stringify(x.const)).join(", ")
    }`;
  }
  if (err.message.includes("Unexpected property")) {
    return `${path}: unknown field; remove it or check its spelling`;
  }
  if (s.pattern && typeof err.value === "string") {
    const eg = Array.isArray(s.examples)
      ? `, e.g. ${s.examples.map((x: unknown) => JSON.stringify(x)).join(" or ")}`
      : "";
    return `${path}: ${JSON.stringify(err.value)} is not valid${
      s.description ? ` ${s.description}` : ""
    }${eg}`;
  }
  return `${path}: ${err.message}${s.description ? ` (${s.description})` : ""}`;
}

/**
 * Validates a parsed config object (already YAML-decoded) and applies defaults and env overrides.
 * Throws a {@link ValidationError} whose message names the path of every bad field and what is valid.
 */
export function resolveConfig(
  raw: unknown,
  env: Record<string, string | undefined> = {},
  source = "lzsync.yaml",
): Runtime {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ValidationError(
      `${source}: the top level must be a mapping of sections (broker, gateway, ...)`,
      [
        { path: "/", message: "expected a mapping" },
      ],
    );
  }
  const cfg = Value.Default(Config, structuredClone(raw)) as Config;
  if (!check.Check(cfg)) {
    const issues = [...check.Errors(cfg)].slice(0, 20).map((e) => ({
      path: e.path || "/",
      message: explain(e),
    }));
    const seen = new Set<string>();
    const unique = issues.filter((i) => !seen.has(i.path) && seen.add(i.path));
    throw new ValidationError(
      `${source} is invalid:\n  ${unique.map((i) => i.message).join("\n  ")}`,
      unique,
    );
  }
  const named = Object.keys(cfg.credentials).sort().join(", ") || "none";
  const badPaths = cfg.fabrics.flatMap((f, i) => {
    const problem = repoPathProblem(f.path);
    const out = problem ? [{ path: `/fabrics/${i}/path`, message: `/fabrics/${i}/path: ${problem}` }] : [];
    for (
      const [at, name] of [["credential", f.credential], ["kubernetes/credential", f.kubernetes?.credential]]
    ) {
      if (name !== undefined && !cfg.credentials[name]) {
        const path = `/fabrics/${i}/${at}`;
        out.push({
          path,
          message: `${path}: no credential named "${name}" in credentials (configured: ${named})`,
        });
      }
    }
    return out;
  });
  const urls: [string, string | undefined][] = [
    ["/landing_zone/repo", cfg.landing_zone.repo],
    ["/portal_repo/repo", cfg.portal_repo?.repo],
    ...cfg.fabrics.flatMap((f, i): [string, string | undefined][] => [
      [`/fabrics/${i}/repo`, f.repo],
      [`/fabrics/${i}/kubernetes/api_url`, f.kubernetes?.api_url],
    ]),
  ];
  for (const [path, url] of urls) {
    if (url && hasUserinfo(url)) {
      badPaths.push({
        path,
        message:
          `${path}: credentials inside the URL are not accepted (they would show in status, logs and git config); remove "user:password@" and use the token_env / credential fields`,
      });
    }
  }
  const ranges: [string, readonly string[]][] = [
    ["/gateway/trusted_proxies", cfg.gateway.trusted_proxies],
    ...Object.entries(cfg.gateway.allow_from).map(([f, l]): [string, readonly string[]] => [
      `/gateway/allow_from/${f}`,
      l ?? [],
    ]),
  ];
  for (const [at, list] of ranges) {
    list.forEach((r, i) => {
      const c = parseCidr(r);
      if (typeof c === "string") badPaths.push({ path: `${at}/${i}`, message: `${at}/${i}: ${c}` });
    });
  }
  if (badPaths.length) {
    throw new ValidationError(
      `${source} is invalid:\n  ${badPaths.map((i) => i.message).join("\n  ")}`,
      badPaths,
    );
  }
  if (env.LZSYNC_DATA_DIR) cfg.data_dir = env.LZSYNC_DATA_DIR;
  if (env.LZSYNC_PORT) {
    const port = Number(env.LZSYNC_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ValidationError(`LZSYNC_PORT=${env.LZSYNC_PORT} is not a port number (0-65535)`, [
        { path: "env/LZSYNC_PORT", message: "expected an integer 0-65535" },
      ]);
    }
    cfg.gateway.port = port;
  }
  if (env.LZSYNC_HOST) cfg.gateway.host = env.LZSYNC_HOST;
  if (env.LZSYNC_LOG_LEVEL) {
    const levels = ["debug", "info", "warn", "error"];
    if (!levels.includes(env.LZSYNC_LOG_LEVEL)) {
      throw new ValidationError(
        `LZSYNC_LOG_LEVEL=${JSON.stringify(env.LZSYNC_LOG_LEVEL)} is not a log level; use one of ${
          levels.join(", ")
        }`,
        [{ path: "env/LZSYNC_LOG_LEVEL", message: `expected one of ${levels.join(", ")}` }],
      );
    }
    cfg.log_level = env.LZSYNC_LOG_LEVEL as Config["log_level"];
  }
  if (env.LZSYNC_BROKER_KIND) cfg.broker.kind = env.LZSYNC_BROKER_KIND as "kafka" | "embedded";
  if (env.LZSYNC_KAFKA_BROKERS) cfg.broker.brokers = env.LZSYNC_KAFKA_BROKERS.split(",").map((s) => s.trim());
  for (
    const dur of [
      cfg.layers.git.interval,
      cfg.layers.api.interval,
      cfg.alerts.latency_max,
      cfg.analytics.daily_interval,
      cfg.analytics.parquet_interval,
      cfg.layers.bigquery.interval,
      cfg.analytics.billing.interval,
    ]
  ) {
    parseDuration(dur);
  }
  const bq = cfg.layers.bigquery;
  const bqProblems = !bq.enabled ? [] : [
    ...(bq.project
      ? []
      : [{ path: "/layers/bigquery/project", message: "is required when the layer is enabled" }]),
    ...(cfg.analytics.duckdb.enabled ? [] : [{
      path: "/analytics/duckdb/enabled",
      message: "must be true when layers.bigquery is enabled (BigQuery is loaded from the DuckDB tables)",
    }]),
  ];
  if (bqProblems.length) {
    throw new ValidationError(
      `${source} is invalid:\n  ${bqProblems.map((i) => `${i.path}: ${i.message}`).join("\n  ")}`,
      bqProblems,
    );
  }
  const snapshot = { ...env };
  return { config: deepFreeze(cfg), source, secret: (name) => snapshot[name] || undefined };
}

/**
 * Reads the config file (`path`, else `LZSYNC_CONFIG`, else `./lzsync.yaml` if present, else defaults) and
 * the process environment.
 */
export async function loadConfig(path?: string): Promise<Runtime> {
  const env = Deno.env.toObject();
  armCrashPoint(env.LZSYNC_CRASH_AT); // the crash test's deterministic kills (pipeline/crash_point.ts)
  const file = path ?? env.LZSYNC_CONFIG ?? "lzsync.yaml";
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    if (path || env.LZSYNC_CONFIG) {
      throw new LzError(
        "CONFIG",
        `config file ${file} not found; pass an existing file or omit it to use defaults`,
      );
    }
  }
  if (text === undefined) return resolveConfig({}, env, "defaults");
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new LzError("CONFIG", `${file} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return resolveConfig(raw, env, file);
}

/** True when `url` parses as a URL carrying `user[:password]@`. */
function hasUserinfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return false;
  }
}
