/** Registrations stored before URLs with credentials were refused: what lzsync cleans in them. */
import type { FabricRegistration } from "../../schemas/fgd.ts";
import { hasUrlCredentials, stripUrlCredentials } from "../../pipeline/redact.ts";

/**
 * `reg` without credentials inside its repo / Kubernetes URLs, naming the fields it cleaned in
 * `credential_removed`; `reg` itself when it has none.
 */
export function withoutUrlCredentials(reg: FabricRegistration): FabricRegistration {
  const removed: string[] = [];
  const out: FabricRegistration = { ...reg };
  if (reg.repo && hasUrlCredentials(reg.repo)) {
    out.repo = stripUrlCredentials(reg.repo);
    removed.push("repo");
  }
  if (reg.kubernetes && hasUrlCredentials(reg.kubernetes.api_url)) {
    out.kubernetes = { ...reg.kubernetes, api_url: stripUrlCredentials(reg.kubernetes.api_url) };
    removed.push("kubernetes.api_url");
  }
  if (!removed.length) return reg;
  out.credential_removed = [...new Set([...(reg.credential_removed ?? []), ...removed])];
  return out;
}
