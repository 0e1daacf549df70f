/**
 * The `policy-governance` processor: watches the synced Landing Zone files (`lz.git.files.v1`) for the
 * root `pmo.yaml` and publishes its governance rules on `lz.compliance.governance.v1` (key `pmo`, broadcast:
 * one copy per partition, so every policy task has them), which the policy processor turns into rules and
 * re-evaluates its assets with. A deleted `pmo.yaml` publishes
 * `present: false` (no governance rules). An invalid one throws a ValidationError naming the bad field, so
 * the host routes the record to the DLQ and the previous rules stay in force.
 */
import type { InputRecord, Processor } from "../../pipeline/processor/types.ts";
import type { GitFilesValue } from "../../schemas/git_files.ts";
import { GOVERNANCE_TOPIC } from "../../schemas/compliance.ts";
import { LzError } from "../../pipeline/errors.ts";
import { parsePmo } from "./governance.ts";
import { base64ToBytes } from "../../pipeline/base64.ts";

/** The tracked path read (repo root). */
export const PMO_PATH = "pmo.yaml";

function utf8FromBase64(b64: string): string {
  return new TextDecoder().decode(base64ToBytes(b64));
}

/** Creates the processor. */
export function createGovernanceProcessor(): Processor<unknown> {
  return {
    process(rec: InputRecord<unknown>, ctx) {
      const key = rec.key ?? "";
      if (!key.endsWith(`:${PMO_PATH}`)) return;
      const v = rec.value as GitFilesValue | null;
      if (v !== null && (v.kind !== "file" || v.path !== PMO_PATH)) return;
      if (v === null) {
        ctx.broadcast(GOVERNANCE_TOPIC.name, "pmo", {
          repo: key.slice(0, -PMO_PATH.length - 1),
          path: PMO_PATH,
          commit: rec.headers["lz-commit"] ?? null,
          present: false,
          required_labels: [],
          allowed_regions: [],
          exceptions: [],
          updated_at: new Date(rec.timestamp).toISOString(),
        });
        return;
      }
      if (v.content === null) {
        throw new LzError(
          "PMO_TOO_LARGE",
          `pmo.yaml at ${v.commit} is ${v.size} bytes, not inlined; raise layers.git.inline_max_bytes`,
        );
      }
      const text = v.encoding === "base64" ? utf8FromBase64(v.content) : v.content;
      ctx.broadcast(GOVERNANCE_TOPIC.name, "pmo", {
        repo: v.repo,
        path: v.path,
        commit: v.commit,
        present: true,
        ...parsePmo(text),
        updated_at: v.synced_at,
      });
    },
  };
}
