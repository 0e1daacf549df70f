/**
 * GitHub `push` payloads → `lz.git.push.v1` records. Only the fields lzsync relies on are checked (GitHub's
 * documented shape: `ref, before, after, created, deleted, forced, commits[], head_commit,
 * repository{full_name, clone_url}, pusher{name}`); a payload without them is a 400 with the field named.
 */
import { ValidationError } from "../../pipeline/errors.ts";
import type { GitPush, PushPaths } from "../../schemas/git_push.ts";

/** GitHub lists at most this many commits in a push payload; more means the list was truncated. */
export const PAYLOAD_MAX_COMMITS = 2048;
/** Path lists kept on the record (a hint); beyond this the record says `truncated`. */
export const MAX_PATHS = 3000;

const SHA = /^[0-9a-f]{40}$/;
const ZERO = "0".repeat(40);

function bad(path: string, message: string): never {
  throw new ValidationError(`push payload: ${path} ${message}`, [{ path, message }]);
}

function str(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string" || v === "") bad(path, "must be a non-empty string");
  return v;
}

function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") bad(`/${key}`, "must be a boolean");
  return v;
}

/** Union of the payload's per-commit file lists; `truncated` when GitHub may have left some out. */
export function pathsFromCommits(commits: unknown[], total: number): PushPaths {
  const added = new Set<string>(), modified = new Set<string>(), removed = new Set<string>();
  let truncated = commits.length >= PAYLOAD_MAX_COMMITS || total > commits.length;
  for (const c of commits) {
    const commit = c as Record<string, unknown>;
    for (const [key, set] of [["added", added], ["modified", modified], ["removed", removed]] as const) {
      const list = commit?.[key];
      if (!Array.isArray(list)) {
        truncated = true;
        continue;
      }
      for (const p of list) if (typeof p === "string") set.add(p);
    }
  }
  const cap = (s: Set<string>) => {
    const a = [...s].sort();
    if (a.length > MAX_PATHS) truncated = true;
    return a.slice(0, MAX_PATHS);
  };
  if (commits.length === 0) return { added: [], modified: [], removed: [], truncated: true, from: "none" };
  return { added: cap(added), modified: cap(modified), removed: cap(removed), truncated, from: "payload" };
}

/** True when the push carries no usable file lists (empty `commits`, or truncated): ask the Compare API. */
export function needsCompare(push: GitPush): boolean {
  return !push.deleted && push.paths.truncated;
}

/** Validates a decoded `push` payload and builds the record. Throws {@link ValidationError}. */
export function pushFromPayload(
  payload: unknown,
  meta: { deliveryId: string; receivedAt: string; syncId: string },
): GitPush {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    bad("/", "must be a JSON object");
  }
  const p = payload as Record<string, unknown>;
  const ref = str(p, "ref", "/ref");
  const before = str(p, "before", "/before");
  const after = str(p, "after", "/after");
  if (!SHA.test(before)) bad("/before", "must be a 40-character hex sha");
  if (!SHA.test(after)) bad("/after", "must be a 40-character hex sha");
  const repository = p.repository as Record<string, unknown> | undefined;
  if (typeof repository !== "object" || repository === null) bad("/repository", "must be an object");
  const fullName = str(repository, "full_name", "/repository/full_name");
  const commits = p.commits ?? [];
  if (!Array.isArray(commits)) bad("/commits", "must be an array");
  const head = p.head_commit as Record<string, unknown> | null | undefined;
  let headCommit: GitPush["head_commit"] = null;
  if (head && typeof head === "object") {
    const id = str(head, "id", "/head_commit/id");
    if (!SHA.test(id)) bad("/head_commit/id", "must be a 40-character hex sha");
    headCommit = {
      id,
      timestamp: typeof head.timestamp === "string" ? head.timestamp : "",
      message: typeof head.message === "string" ? head.message.slice(0, 2000) : "",
    };
  }
  const pusher = (p.pusher as Record<string, unknown> | undefined)?.name;
  const deleted = bool(p, "deleted");
  return {
    repo: fullName,
    ...(typeof repository.clone_url === "string" ? { clone_url: repository.clone_url } : {}),
    ref,
    before: before === ZERO ? null : before,
    after: after === ZERO ? null : after,
    forced: bool(p, "forced"),
    created: bool(p, "created"),
    deleted,
    commit_count: commits.length,
    head_commit: headCommit,
    paths: deleted
      ? { added: [], modified: [], removed: [], truncated: false, from: "payload" }
      : pathsFromCommits(commits, commits.length),
    delivery_id: meta.deliveryId,
    received_at: meta.receivedAt,
    source: "webhook",
    sync_id: meta.syncId,
    ...(typeof pusher === "string" ? { pusher } : {}),
  };
}
