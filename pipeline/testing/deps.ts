/** The `AppDeps` a test builds a service, plugin or host from. */
import { Registry } from "prom-client";
import type { Broker } from "../broker/types.ts";
import { type AppDeps, systemClock } from "../service.ts";
import { resolveConfig } from "../config.ts";
import { silentLogger } from "../log.ts";

/** AppDeps over `broker`: config resolved from `raw` (plus `env`), silent logs, a fresh registry, the wall clock. */
export function testDeps(
  broker: Broker,
  raw: Record<string, unknown> = {},
  env: Record<string, string> = {},
): AppDeps {
  return {
    runtime: resolveConfig(raw, env, "test"),
    broker,
    log: silentLogger,
    metrics: new Registry(),
    clock: systemClock,
  };
}
