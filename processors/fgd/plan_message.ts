/** The commit message of an ingestion run: a summary line and one line per move, bounded in length. */
import type { Plan } from "./plan_types.ts";

const MAX_LINES = 200;

/** `prefix` is the fabric directory inside the repo (e.g. `fabrics/dc1`); paths in the body are repo paths. */
export function commitMessage(fabricId: string, prefix: string, plan: Plan): string {
  const at = (p: string) => (prefix ? `${prefix.replace(/\/+$/, "")}/${p}` : p);
  const created = plan.objects.filter((o) => o.outcome === "created").length;
  const updated = plan.objects.filter((o) => o.outcome === "updated").length;
  const rejected = plan.objects.filter((o) => o.outcome === "rejected").length;
  const toUnmanaged = plan.unmanaged.filter((u) => u.from).length;
  const parts = [
    created && `${created} created`,
    updated && `${updated} updated`,
    rejected && `${rejected} rejected`,
    toUnmanaged && `${toUnmanaged} file(s) to unmanaged/`,
  ].filter(Boolean);
  const head = `fgd(${fabricId}): ingest ${parts.length ? parts.join(", ") : "layout and normalization"}`;
  const lines = plan.moves.map((m) => `${at(m.from)} -> ${at(m.to)}${m.note ? ` (${m.note})` : ""}`);
  const created_ = [...plan.writes.keys()].filter((p) => p.endsWith(".gitkeep") || p === "README.md");
  for (const p of created_) lines.push(`created ${at(p)}`);
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`... and ${lines.length - MAX_LINES} more`);
  return `${head}\n\n${shown.join("\n")}\n`;
}
