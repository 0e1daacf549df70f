/**
 * FabricFailure alerts: `alerts.consecutive_failures` failed ingestion runs of a fabric in a row open
 * `FabricFailure:fgd:<fabric>` on `lz.alerts.v1` (beside the sync layers' alerts, so the Portal, the status
 * page and the Slack notifier see it); the next run that does not fail resolves it. Open alerts are restored
 * from the topic at task start (a table of the `lzsync-fgd` topology), so a restart neither repeats nor forgets
 * one.
 */
import type { Alert } from "../../schemas/alerts.ts";

/** The alert id of a fabric. */
export const fabricAlertId = (fabric: string) => `FabricFailure:fgd:${fabric}`;

/** Consecutive-failure tracking and alert transitions for every fabric of a manager. */
export class FabricAlerts {
  readonly #failures = new Map<string, number>();
  readonly #open = new Map<string, Alert>();

  constructor(
    readonly threshold: number,
    /** Sends an alert record of `fabric` (the processor's forward to `lz.alerts.v1`). */
    readonly send: (alert: Alert, fabric: string) => void,
    readonly now: () => string,
  ) {}

  /** Takes an alert read back from `lz.alerts.v1` at start. */
  restore(alert: Alert): void {
    if (alert.type !== "FabricFailure") return;
    if (alert.state === "open") this.#open.set(alert.id, alert);
    else this.#open.delete(alert.id);
  }

  /** Records the outcome of a run; sends the alert when it opens or resolves. */
  run(fabric: string, failed: boolean, error: string | null): void {
    const id = fabricAlertId(fabric);
    const open = this.#open.get(id);
    if (!failed) {
      this.#failures.delete(fabric);
      if (!open) return;
      const now = this.now();
      const resolved: Alert = { ...open, state: "resolved", resolved_at: now, updated_at: now };
      this.send(resolved, fabric);
      this.#open.delete(id);
      return;
    }
    const n = (this.#failures.get(fabric) ?? 0) + 1;
    this.#failures.set(fabric, n);
    if (open || n < this.threshold) return;
    const now = this.now();
    const alert: Alert = {
      id,
      type: "FabricFailure",
      layer: "fgd",
      state: "open",
      severity: "critical",
      message: `fabric ${fabric}: ${n} ingestion runs failed in a row; last error: ${error ?? "unknown"}`
        .slice(0, 2000),
      value: n,
      threshold: this.threshold,
      opened_at: now,
      resolved_at: null,
      updated_at: now,
    };
    this.send(alert, fabric);
    this.#open.set(id, alert);
  }
}
