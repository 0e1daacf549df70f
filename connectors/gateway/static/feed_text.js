// Human sentences for the live activity feed: "docs/README.md changed in 51dfa5c", "bucket web-prod-assets:
// cis-gcp-5.1-bucket-public opened — the bucket is public", each with a link to the object it is about. A frame
// of a topic not known here gets null and the page falls back to its key and a summary of the data.

const short = (sha) => (typeof sha === "string" ? sha.slice(0, 7) : "");
const last = (name) => String(name ?? "").split("/").filter(Boolean).pop() ?? "";
/** `compute.googleapis.com/Firewall` → `firewall`; `storage.googleapis.com/Bucket` → `bucket`. */
const kindOf = (assetType) => last(assetType).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase() || "resource";
/** The docs API reads paths relative to docs/ first (then to the repository root). */
const docHref = (path) =>
  `/api/v1/docs/${path.replace(/^docs\//, "").split("/").map(encodeURIComponent).join("/")}`;

/** `{text, href}` for one live frame, or null when the topic has no sentence. */
export function sentence(ev) {
  const d = ev.data;
  switch (ev.topic) {
    case "lz.git.files.v1": {
      if (d?.kind === "commit") {
        const files = `${d.changed} changed${d.removed ? `, ${d.removed} removed` : ""}`;
        return {
          text: `commit ${short(d.commit)}${d.author ? ` by ${d.author}` : ""} synced (${files})${
            d.message ? `: ${d.message.split("\n")[0]}` : ""
          }`,
          href: "/api/v1/sync/git",
        };
      }
      if (d?.kind === "file") {
        return {
          text: `${d.path} ${d.change === "added" ? "added" : "changed"} in ${short(d.commit)}`,
          href: docHref(d.path),
        };
      }
      if (d === null && ev.key?.includes(":")) {
        return { text: `${ev.key.slice(ev.key.indexOf(":") + 1)} removed`, href: null };
      }
      return null;
    }
    case "lz.violations.v1": {
      if (!d) return null;
      const what = `${kindOf(d.asset_type)} ${last(d.asset_name)}`;
      const opened = d.state === "open";
      return {
        text: `${what}: ${d.rule_id} ${opened ? "opened" : "resolved"}${opened ? ` — ${d.message}` : ""}`,
        href: `/api/v1/violations?rule=${encodeURIComponent(d.rule_id)}&state=${
          opened ? "open" : "resolved"
        }`,
      };
    }
    case "lz.assets.v1": {
      if (!d?.asset) return null;
      const verb = { resource_created: "created", resource_updated: "updated", resource_deleted: "deleted" }[
        d.type
      ] ?? "changed";
      const where = d.asset.project ? ` in ${d.asset.project}` : "";
      return { text: `${kindOf(d.asset.asset_type)} ${last(d.name)}${where} ${verb}`, href: null };
    }
    case "lz.alerts.v1":
      if (!d) return null;
      return {
        text: `alert ${d.type} [${d.layer}] ${d.state === "open" ? "opened" : "resolved"}: ${d.message}`,
        href: "/api/v1/sync/alerts",
      };
    case "lz.sync.progress.v1":
      if (!d) return null;
      return {
        text: `sync ${String(d.sync_id).slice(0, 8)} (${d.layer}) ${d.phase}${
          d.message ? `: ${d.message}` : ""
        }`,
        href: `/api/v1/sync/syncs/${encodeURIComponent(d.sync_id)}`,
      };
    case "lz.sync.status.v1":
      if (!d) return null;
      return { text: `${d.layer} layer is ${d.status}`, href: "/api/v1/sync/sync-status" };
    default:
      return null;
  }
}
