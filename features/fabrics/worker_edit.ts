/**
 * Portal edits of one fabric object (PUT, DELETE, draft discard), run inside the fabric's queue:
 * resolve the kind from the fabric's CRDs, validate with the same validator as ingestion (422 with the
 * findings), record a draft, and — unless only a draft was asked for — commit it to `managed/` when git
 * still holds the version the edit started from (409 with both versions otherwise).
 */
import type { CrdKind } from "../../processors/fgd/crd.ts";
import type { Draft } from "../../processors/fgd/drafts.ts";
import { hasErrors } from "../../processors/fgd/finding.ts";
import { managedPath } from "../../processors/fgd/layout.ts";
import {
  contentHash,
  normalizeObject,
  renderManaged,
  stripProvenance,
} from "../../processors/fgd/normalize.ts";
import { isPlainObject, type KubeObject, splitApiVersion } from "../../processors/fgd/object.ts";
import type { RuleContext } from "../../processors/fgd/rule_pack.ts";
import { directoryContext } from "../../processors/fgd/rule_context.ts";
import { commitEdit } from "./object_edit.ts";
import { slotKey, type SlotMeta } from "./records.ts";
import type { FabricState } from "./worker_state.ts";

/** An edit request from the API. */
export interface EditRequest {
  op: "put" | "delete" | "discard";
  /** Kind plural (`vpcs`), kind (`VPC`) or singular (`vpc`). */
  kind: string;
  name: string;
  namespace?: string;
  body?: unknown;
  /** `If-Match` content hash of the version the edit is based on; undefined: the current one. */
  ifMatch?: string;
  /** Save the draft without committing it. */
  draftOnly?: boolean;
  author: string;
}

/** An HTTP-shaped answer. */
export interface EditResponse {
  status: number;
  body: Record<string, unknown>;
}

function resolveKind(crds: Iterable<CrdKind>, kind: string): CrdKind | undefined {
  const k = kind.toLowerCase();
  for (const c of crds) if (c.plural === k || c.kind.toLowerCase() === k || c.singular === k) return c;
  return undefined;
}

function lookupOver(w: FabricState): RuleContext {
  return directoryContext(Array.from(w.desired.values(), (e) => e.object));
}

/** Performs one edit (see the module doc). */
export async function performEdit(w: FabricState, req: EditRequest): Promise<EditResponse> {
  w.validator ??= await w.fg.validatorAt(await w.fg.repo.fetch());
  const crd = resolveKind(w.validator.crds.kinds.values(), req.kind);
  if (!crd) {
    const known = [...w.validator.crds.kinds.values()].map((c) => c.plural).sort();
    return {
      status: 404,
      body: {
        error: "unknown_kind",
        reason: `no CRD of fabric ${w.id} defines "${req.kind}"; use one of ${known.join(", ")}`,
      },
    };
  }
  const body = isPlainObject(req.body) ? req.body as unknown as KubeObject : undefined;
  const bodyNs = body && isPlainObject(body.metadata) ? body.metadata.namespace : undefined;
  const namespace = crd.scope === "Namespaced"
    ? (req.namespace ?? (typeof bodyNs === "string" ? bodyNs : "default"))
    : null;
  const slot = slotKey(crd.plural, namespace, req.name);
  let path: string;
  try {
    path = managedPath(crd.plural, req.name, namespace ?? undefined);
  } catch (err) {
    return { status: 400, body: { error: "bad_name", reason: (err as Error).message } };
  }
  const meta: SlotMeta = {
    apiVersion: `${crd.group}/${crd.versions.find((v) => v.storage)?.name ?? crd.versions[0].name}`,
    kind: crd.kind,
    plural: crd.plural,
    name: req.name,
    namespace,
    path,
  };
  const desired = w.desired.get(slot);
  const existing = w.drafts.get(slot);
  const now = w.nowIso();

  if (req.op === "discard") {
    if (!existing) {
      return { status: 404, body: { error: "no_draft", reason: `${crd.kind}/${req.name} has no draft` } };
    }
    w.drafts.delete(slot);
    w.publish();
    return { status: 200, body: { discarded: true, kind: crd.kind, name: req.name } };
  }

  let object: KubeObject | null = null;
  let hash: string | null = null;
  if (req.op === "put") {
    if (!body) {
      return {
        status: 400,
        body: { error: "bad_body", reason: "the body must be one Kubernetes object (JSON or YAML mapping)" },
      };
    }
    const meta0: Record<string, unknown> = isPlainObject(body.metadata) ? body.metadata : {};
    const doc = { ...body, metadata: { ...meta0, name: meta0.name ?? req.name } } as KubeObject;
    if (
      doc.metadata.name !== req.name || doc.kind !== crd.kind ||
      (typeof doc.apiVersion === "string" && splitApiVersion(doc.apiVersion).group !== crd.group)
    ) {
      return {
        status: 400,
        body: {
          error: "mismatch",
          reason: `the body must be ${crd.kind} ${req.name} of group ${crd.group}, as in the URL`,
        },
      };
    }
    const r = w.validator.validate(doc, 0, lookupOver(w));
    if (!r.object || hasErrors(r.findings)) {
      return {
        status: 422,
        body: { error: "invalid", reason: `${crd.kind}/${req.name} does not validate`, findings: r.findings },
      };
    }
    object = normalizeObject(stripProvenance(r.object), crd);
    hash = contentHash(object);
  } else if (!desired && !existing) {
    return {
      status: 404,
      body: { error: "not_found", reason: `${crd.kind}/${req.name} is not in fabric ${w.id}` },
    };
  }

  const base = req.ifMatch !== undefined ? (req.ifMatch === "" ? null : req.ifMatch) : desired?.hash ?? null;
  const draft: Draft = {
    op: req.op,
    object,
    hash,
    base_hash: base,
    state: "open",
    author: req.author,
    created_at: existing?.created_at ?? now,
    updated_at: now,
    error: null,
    conflict: null,
  };
  const store = (d: Draft) => {
    w.drafts.set(slot, { ...d, meta });
    w.publish();
  };

  if (req.draftOnly) {
    const current = desired?.hash ?? null;
    const stale = base !== current && !(req.op === "put" && current === hash);
    const d: Draft = stale
      ? {
        ...draft,
        state: "conflicted",
        conflict: {
          theirs: desired?.object ?? null,
          theirs_hash: current,
          commit: desired?.commit ?? null,
          detected_at: now,
        },
      }
      : draft;
    store(d);
    return {
      status: stale ? 409 : 202,
      body: {
        draft: d,
        kind: crd.kind,
        name: req.name,
        ...(stale ? { error: "conflict", theirs: desired?.object ?? null } : {}),
      },
    };
  }

  const outcome = await commitEdit(w.fg, {
    op: req.op,
    crd,
    name: req.name,
    path,
    object,
    hash,
    base_hash: base,
    author: req.author,
  });
  switch (outcome.kind) {
    case "committed":
    case "applied": {
      w.drafts.delete(slot);
      const commit = outcome.kind === "committed" ? outcome.commit : outcome.head;
      if (req.op === "put") {
        const r = renderManaged(object!, crd, { source: "portal", document: 0 });
        w.desired.set(slot, {
          key: `${crd.group}/${crd.kind}/${namespace ?? ""}/${req.name}`,
          path,
          apiVersion: object!.apiVersion,
          kind: crd.kind,
          plural: crd.plural,
          name: req.name,
          namespace: namespace ?? undefined,
          object: r.object,
          hash: r.hash,
          source: "portal",
          document: 0,
          warnings: [],
          commit,
        });
      } else w.desired.delete(slot);
      if (commit) {
        w.head = commit;
        if (outcome.kind === "committed") w.lastCommit = commit;
      }
      w.publish();
      if (commit && outcome.kind === "committed") w.committed(commit);
      return {
        status: 200,
        body: { commit, hash, path, kind: crd.kind, name: req.name, unchanged: outcome.kind === "applied" },
      };
    }
    case "conflict": {
      const d: Draft = {
        ...draft,
        state: "conflicted",
        conflict: {
          theirs: outcome.theirs.object,
          theirs_hash: outcome.theirs.hash,
          commit: outcome.head,
          detected_at: now,
        },
      };
      store(d);
      return {
        status: 409,
        body: {
          error: "conflict",
          reason:
            `git changed ${crd.kind}/${req.name} since the version this edit is based on; both versions are kept in the draft`,
          draft: d,
          theirs: outcome.theirs.object,
          theirs_hash: outcome.theirs.hash,
        },
      };
    }
    case "failed": {
      w.o.metrics.failures.inc({ fabric: w.id, reason: "edit" });
      store({ ...draft, state: "failed", error: outcome.error });
      return { status: 502, body: { error: "commit_failed", reason: outcome.error } };
    }
  }
}
