/**
 * The webhook secrets: `layers.webhook.secret_env` (default `GITHUB_WEBHOOK_SECRET`) and, during a rotation,
 * `layers.webhook.previous_secret_env`. With neither set, a first-run secret is generated once into
 * `<data_dir>/webhook_secret` (mode 0600) so `deno task lzsync demo-push` can sign deliveries on a laptop; a
 * real GitHub delivery then fails closed (401) until the operator sets the environment variable.
 */
import { join } from "node:path";
import type { Runtime } from "../../pipeline/config.ts";

/** Accepted secrets, current first; `generated` is the file used when none is configured. */
export interface WebhookSecrets {
  secrets: string[];
  generated?: string;
}

/** Path of the generated first-run secret. */
export const generatedSecretPath = (dataDir: string) => join(dataDir, "webhook_secret");

/** Resolves the accepted webhook secrets (see the module doc). */
export async function webhookSecrets(runtime: Runtime): Promise<WebhookSecrets> {
  const w = runtime.config.layers.webhook;
  const secrets = [runtime.secret(w.secret_env), runtime.secret(w.previous_secret_env)].filter((
    s,
  ): s is string => !!s);
  if (secrets.length) return { secrets };
  const path = generatedSecretPath(runtime.config.data_dir);
  try {
    const s = (await Deno.readTextFile(path)).trim();
    if (s) return { secrets: [s], generated: path };
  } catch { /* first run */ }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.mkdir(runtime.config.data_dir, { recursive: true });
  try {
    await Deno.writeTextFile(path, `${secret}\n`, { createNew: true, mode: 0o600 });
    return { secrets: [secret], generated: path };
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    return { secrets: [(await Deno.readTextFile(path)).trim()], generated: path };
  }
}
