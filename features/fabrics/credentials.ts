/**
 * Which token a fabric's git remote and Kubernetes API get. An API caller (even with the admin scope) may
 * only name a credential from `credentials:` in `lzsync.yaml` — never an environment variable, or it could
 * send `LZSYNC_TOKEN` or any other secret of the process to a server of its choice — and a credential with
 * `hosts` is sent to those hosts only. `credential_env` / `kubernetes.token_env` stay for fabrics written in
 * the config file, which the operator controls.
 */
import type { Config, CredentialConfig } from "../../schemas/config.ts";
import type { FabricRegistration } from "../../schemas/fgd.ts";
import { LzError } from "../../pipeline/errors.ts";

/** Where a credential is sent: the fabric's repo or its Kubernetes API. */
type Target = "repo" | "kubernetes";

const known = (cfg: Config) => Object.keys(cfg.credentials).sort().join(", ") || "none configured";

/** True when `cred` may be sent to `url` (its `hosts`, as `host` or `host:port`; no `hosts` = anywhere). */
export function credentialAllows(cred: CredentialConfig, url: string): boolean {
  if (!cred.hosts) return true;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return false;
  return cred.hosts.some((h) => {
    const want = h.toLowerCase();
    return want.includes(":") && !want.startsWith("[") ? want === u.host : want === u.hostname;
  });
}

/**
 * Refuses what an API registration may not name: any `credential_env` / `kubernetes.token_env`, an unknown
 * `credential`, or one whose `hosts` exclude the URL it would be sent to. Throws LzError(INVALID_CREDENTIAL).
 */
export function checkApiCredentials(cfg: Config, input: unknown, lzRepo: string): void {
  const i = (input ?? {}) as Record<string, unknown>;
  const kube = (i.kubernetes ?? {}) as Record<string, unknown>;
  const refuse = (field: string, message: string): never => {
    throw new LzError("INVALID_CREDENTIAL", `/${field}: ${message}`, { detail: { path: `/${field}` } });
  };
  const direct: [string, unknown][] = [
    ["credential_env", i.credential_env],
    ["kubernetes.token_env", kube.token_env],
  ];
  for (const [field, value] of direct) {
    if (value !== undefined) {
      refuse(
        field.replace(".", "/"),
        `${field} is not accepted over the API (it could name any secret of the process); name a token from the config's credentials instead (${
          field === "credential_env" ? "credential" : "kubernetes.credential"
        }: <name>; configured: ${known(cfg)})`,
      );
    }
  }
  for (
    const [field, url] of [["repo", i.repo], ["kubernetes/api_url", kube.api_url]] as [string, unknown][]
  ) {
    if (typeof url !== "string") continue;
    let userinfo = false;
    try {
      const u = new URL(url);
      userinfo = u.username !== "" || u.password !== "";
    } catch { /* a local path */ }
    if (userinfo) {
      refuse(
        field,
        `credentials inside the URL are not accepted (they would show in status, logs and git config); remove "user:password@" and name a token from the config's credentials (credential: <name>; configured: ${
          known(cfg)
        })`,
      );
    }
  }
  const check = (field: string, name: unknown, url: unknown) => {
    if (name === undefined || typeof name !== "string") return;
    const cred = cfg.credentials[name];
    if (!cred) refuse(field, `no credential named ${JSON.stringify(name)} (configured: ${known(cfg)})`);
    if (typeof url === "string" && !credentialAllows(cred, url)) {
      refuse(
        field,
        `credential "${name}" may only be sent to ${cred.hosts!.join(", ")} (credentials.${name}.hosts)`,
      );
    }
  };
  check("credential", i.credential, typeof i.repo === "string" && i.repo ? i.repo : lzRepo);
  check("kubernetes/credential", kube.credential, kube.api_url);
}

/**
 * The env var of the token sent to `target` of `reg`, or undefined for none. A registration stored before
 * credentials were checked, naming an env var that is no configured credential, gets none (and `warn`).
 */
export function tokenEnvFor(
  cfg: Config,
  reg: FabricRegistration,
  target: Target,
  url: string,
  warn: (message: string, fields: Record<string, unknown>) => void,
): string | undefined {
  const name = target === "repo" ? reg.credential : reg.kubernetes?.credential;
  const env = target === "repo" ? reg.credential_env : reg.kubernetes?.token_env;
  if (name !== undefined) {
    const cred = cfg.credentials[name];
    if (!cred) {
      warn("fabric names a credential that is not configured; no token is sent", {
        fabric: reg.id,
        name,
        target,
      });
      return undefined;
    }
    if (!credentialAllows(cred, url)) {
      warn("fabric's credential may not be sent to this host; no token is sent", {
        fabric: reg.id,
        name,
        target,
      });
      return undefined;
    }
    return cred.token_env;
  }
  if (env !== undefined) {
    if (reg.source !== "api") return env;
    const allowed = Object.values(cfg.credentials).some((c) =>
      c.token_env === env && credentialAllows(c, url)
    );
    if (allowed) return env;
    warn(
      "fabric registered over the API names an environment variable that is no configured credential; no token is sent",
      {
        fabric: reg.id,
        env,
        target,
      },
    );
    return undefined;
  }
  return target === "repo" && !reg.repo ? cfg.landing_zone.token_env : undefined;
}
