/**
 * Structured JSON logs, one line per event. A logger is passed in (never a global); `child` adds a namespace
 * and fields. Level comes from the config or `LZSYNC_LOG_LEVEL` read once in `pipeline/config.ts`.
 */
export type Level = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

import { stripUrlCredentials } from "./redact.ts";

/** Fields that must never be logged, whatever the caller passes. */
const SECRET_KEYS = /token|secret|password|authorization|signature|credential/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(ns: string, fields?: Record<string, unknown>): Logger;
}

/** Creates a logger writing JSON lines to `sink` (stderr by default). */
export function createLogger(
  options: { level?: Level; ns?: string; fields?: Record<string, unknown>; sink?: (line: string) => void } =
    {},
): Logger {
  const level = ORDER[options.level ?? "info"];
  const sink = options.sink ?? ((line: string) => console.error(line));
  const base = { ...(options.fields ?? {}) };
  const ns = options.ns ?? "lzsync";
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < level) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level: lvl, ns, msg };
    for (const [k, v] of Object.entries({ ...base, ...(fields ?? {}) })) {
      rec[k] = SECRET_KEYS.test(k) ? "[redacted]" : v instanceof Error ? `${v.name}: ${v.message}` : v;
    }
    sink(stripUrlCredentials(JSON.stringify(rec))); // a URL quoted in a message never carries its password
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (childNs, fields) =>
      createLogger({
        level: options.level,
        ns: `${ns}.${childNs}`,
        fields: { ...base, ...(fields ?? {}) },
        sink,
      }),
  };
}

/** A logger that drops everything (tests that assert on other things). */
export const silentLogger: Logger = createLogger({ level: "silent" });
