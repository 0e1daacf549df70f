/**
 * The state of one fabric that the steps run in its queue (`worker_edit.ts`, `worker_kube.ts`) read and
 * change. `worker.ts`'s `FabricWorker` implements it; the steps name it here, so they do not import the
 * worker that imports them.
 */
import type { Validator } from "../../processors/fgd/validate.ts";
import type { FabricRegistration, FabricStatus } from "../../schemas/fgd.ts";
import type { FabricGit } from "./ingest.ts";
import type { FgdMetrics } from "./metrics.ts";
import type { ActualEntry, DesiredEntry, DraftEntry } from "./records.ts";

/** One fabric's state and the worker operations a queued step may call. */
export interface FabricState {
  readonly id: string;
  readonly reg: FabricRegistration;
  /** The fabric's git repository, path and author. */
  readonly fg: FabricGit;
  readonly o: { readonly metrics: FgdMetrics };
  desired: Map<string, DesiredEntry>;
  drafts: Map<string, DraftEntry>;
  /** The objects read from Kubernetes; null before the first poll (or without a Kubernetes source). */
  actual: Map<string, ActualEntry> | null;
  /** The fabric's CRDs and rule packs at the last head (loaded on first use). */
  validator?: Validator;
  head: string | null;
  lastCommit: string | null;
  kubeState: FabricStatus["kubernetes"];
  nowIso(): string;
  /** Forwards the fabric's records (objects, drafts, status) that changed. */
  publish(): void;
  /** Tells the git layer about a commit lzsync pushed itself. */
  committed(commit: string): void;
}
