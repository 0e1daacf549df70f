/**
 * Turns one Pub/Sub message into an `lz.infra.events.v1` event, a skip, or a malformed verdict with the
 * reason. Two kinds of messages share the subscription:
 *
 * - Cloud Asset real-time feed messages: JSON `TemporalAsset` — `asset`, `priorAsset`, `priorAssetState`
 *   (name or integer enum), `deleted`, `window.startTime`. The first message on a new feed is a plain-text
 *   welcome ("You have successfully configured real time feed ..."): skipped.
 * - The Landing Zone's own events, JSON with `type` (or `event_type`, or a message attribute `event_type`):
 *   - `resource_created` / `resource_deleted` with `asset` (a Cloud Asset `Asset`) or `resource`
 *     (`{name, asset_type, project?, location?, labels?, data?}`), optional `actor`;
 *   - `policy_violated` with `rule_id`, `resource_name` (or `asset_name`), `severity`, `message`, optional
 *     `asset_type`, `project`.
 */
import type { InfraEvent } from "../../schemas/infra_events.ts";
import type { AssetRecord } from "../../schemas/assets.ts";
import { normalizeAsset } from "../cloud_asset/normalize.ts";
import { describeError } from "../../pipeline/errors.ts";

/** The parts of a Pub/Sub message the parser reads. */
export interface RawMessage {
  id: string;
  data: Uint8Array;
  attributes: Record<string, string>;
  /** RFC 3339. */
  publishTime: string;
  subscription: string;
}

/** The verdict on one message. */
export type Parsed =
  | { kind: "event"; key: string; event: InfraEvent }
  | { kind: "skip"; reason: string }
  | { kind: "malformed"; error: string };

const WELCOME = /^You have successfully configured real time feed/i;
const PRIOR_STATES = ["PRIOR_ASSET_STATE_UNSPECIFIED", "PRESENT", "INVALID", "DOES_NOT_EXIST", "DELETED"];
const SEVERITIES = new Set(["critical", "high", "medium", "low"]);
const dec = new TextDecoder("utf-8", { fatal: true });

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const iso = (t: unknown): string | null => {
  if (typeof t !== "string" || !t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

function lzAsset(body: Obj): AssetRecord {
  if (isObj(body.asset)) return normalizeAsset(body.asset, "asset");
  const r = body.resource;
  if (!isObj(r)) {
    throw new Error("needs `asset` (a Cloud Asset Asset) or `resource` ({name, asset_type, ...})");
  }
  const data = isObj(r.data) ? r.data : { ...(r.labels ? { labels: r.labels } : {}) };
  const a = normalizeAsset({
    name: r.name,
    assetType: r.asset_type ?? r.assetType ?? r.type,
    updateTime: r.update_time ?? r.updateTime ?? body.timestamp,
    ancestors: r.ancestors,
    resource: { data, location: r.location },
  }, "resource");
  if (!a.project && typeof r.project === "string") a.project = r.project;
  return a;
}

/** Parses one message. Never throws: bad input is a `malformed` verdict with a secret-free reason. */
export function parseMessage(m: RawMessage): Parsed {
  let text: string;
  try {
    text = dec.decode(m.data);
  } catch {
    return { kind: "malformed", error: "message data is not UTF-8" };
  }
  if (WELCOME.test(text.trim())) return { kind: "skip", reason: "Cloud Asset feed welcome message" };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return { kind: "malformed", error: `not JSON and not a feed welcome message: ${(err as Error).message}` };
  }
  if (!isObj(body)) return { kind: "malformed", error: "message is JSON but not an object" };
  const envelope = {
    message_id: m.id,
    publish_time: iso(m.publishTime) ?? new Date(0).toISOString(),
    subscription: m.subscription,
  };
  try {
    const type = body.type ?? body.event_type ?? m.attributes.event_type;
    if (type === "resource_created" || type === "resource_deleted") {
      const asset = lzAsset(body);
      const actor = typeof body.actor === "string" ? body.actor : null;
      return { kind: "event", key: asset.name, event: { type, ...envelope, asset, actor } };
    }
    if (type === "policy_violated") {
      const assetName = body.resource_name ?? body.asset_name ??
        (isObj(body.resource) ? body.resource.name : undefined);
      const rule = body.rule_id ?? body.rule ?? body.policy;
      if (typeof assetName !== "string" || !assetName) throw new Error("policy_violated needs resource_name");
      if (typeof rule !== "string" || !rule) throw new Error("policy_violated needs rule_id");
      const severity = String(body.severity ?? "medium").toLowerCase();
      if (!SEVERITIES.has(severity)) {
        throw new Error(`severity ${body.severity} is not critical|high|medium|low`);
      }
      return {
        kind: "event",
        key: assetName,
        event: {
          type: "policy_violated",
          ...envelope,
          rule_id: rule,
          asset_name: assetName,
          asset_type: typeof body.asset_type === "string" ? body.asset_type : null,
          project: typeof body.project === "string" ? body.project : null,
          severity: severity as "medium",
          message: String(body.message ?? body.description ?? ""),
        },
      };
    }
    if (type !== undefined) throw new Error(`unknown event type ${JSON.stringify(type)}`);
    if (isObj(body.asset)) {
      const asset = normalizeAsset(body.asset, "asset");
      const prior = priorOf(body.priorAsset ?? body.prior_asset, body.asset);
      const ps = body.priorAssetState ?? body.prior_asset_state;
      return {
        kind: "event",
        key: asset.name,
        event: {
          type: "asset_feed",
          ...envelope,
          asset,
          prior_asset: prior,
          prior_asset_state: typeof ps === "number"
            ? PRIOR_STATES[ps] ?? String(ps)
            : typeof ps === "string"
            ? ps
            : null,
          deleted: body.deleted === true,
          window_start: iso(body.window?.startTime ?? body.window?.start_time),
        },
      };
    }
    throw new Error("neither a Cloud Asset TemporalAsset (no `asset`) nor a Landing Zone event (no `type`)");
  } catch (err) {
    return { kind: "malformed", error: describeError(err).replace(/^(Error|ValidationError): /, "") };
  }
}

/**
 * The prior state of a feed message's asset. It is the same asset, so a `priorAsset` that omits `name` or
 * `assetType` takes the asset's; prior state is informational, so one that still cannot be read is dropped
 * (null), never the message carrying the current state.
 */
function priorOf(raw: unknown, asset: Record<string, unknown>): AssetRecord | null {
  if (!isObj(raw)) return null;
  try {
    return normalizeAsset({
      ...raw,
      name: raw.name || asset.name,
      assetType: raw.assetType ?? raw.asset_type ?? asset.assetType ?? asset.asset_type,
    }, "priorAsset");
  } catch {
    return null;
  }
}
