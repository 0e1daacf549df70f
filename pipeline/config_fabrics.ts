/**
 * The one place that decides which fabrics exist at start without anyone registering them: the fabrics of
 * `lzsync.yaml`, or — on a first run with the sample Landing Zone and no fabric configured — the sample
 * fabric `dc1`.
 *
 * A leaf module of the config (type-only imports): the FGD manager (`features/fabrics/manager.ts`) registers
 * these fabrics, and the git sync (`connectors/git/glob.ts`) tracks their GitOps directories; it lives with
 * the config, not in either connector, so the git connector does not import the fabric service's folder
 * (which imports the git connector for its repositories).
 */
import type { Config } from "./config.ts";
import type { FabricRegistration } from "../schemas/fgd.ts";

/** The sample fabric of the first run: `fabrics/dc1` of the sample Landing Zone, Hedgehog CRDs in the repo. */
export function sampleFabric(now: string): FabricRegistration {
  return {
    id: "dc1",
    branch: "main",
    path: "fabrics/dc1",
    crd_dirs: ["fabrics/crds/hedgehog"],
    rule_packs: ["hedgehog"],
    source: "sample",
    registered_at: now,
  };
}

/**
 * The fabrics to register at start from the config: `config.fabrics`, or — when none is configured and
 * the Landing Zone is the sample (`landing_zone.repo` unset) — the sample fabric `dc1` in the sample repo.
 * `now` is the registration time written into each registration.
 */
export function defaultFabrics(config: Config, now: string): FabricRegistration[] {
  if (config.fabrics.length) {
    return config.fabrics.map((f) => ({
      ...structuredClone(f),
      source: "config" as const,
      registered_at: now,
    }));
  }
  return config.landing_zone.repo === undefined ? [sampleFabric(now)] : [];
}
