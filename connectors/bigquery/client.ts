/**
 * The BigQuery client of the analytics exporter: Application Default Credentials from the environment as
 * usual, or, with an endpoint (the bigquery-emulator, `BIGQUERY_EMULATOR_HOST`), no credentials at all, so
 * nothing but that endpoint is ever contacted (no metadata-server probe).
 */
import { BigQuery } from "@google-cloud/bigquery";

/** Where the analytics tables go. */
export interface BigQueryTarget {
  project: string;
  dataset: string;
  /** `http://host:port` of an emulator; none: the real service. */
  endpoint?: string;
  /** Dataset location (e.g. `EU`), used when the dataset is created. */
  location?: string;
  /** Retries of a failed request (the client library's default when absent). */
  maxRetries?: number;
}

/** An auth client that adds no header (the emulator accepts anything). */
const noAuth = {
  getRequestHeaders: () => Promise.resolve(new Headers()),
  getProjectId: () => Promise.resolve(""),
};

/** A client for `target`. */
export function bigQueryClient(target: BigQueryTarget): BigQuery {
  if (target.endpoint) {
    const endpoint = target.endpoint.includes("://") ? target.endpoint : `http://${target.endpoint}`;
    const auth = { ...noAuth, getProjectId: () => Promise.resolve(target.project) };
    return new BigQuery({
      projectId: target.project,
      apiEndpoint: endpoint,
      // deno-lint-ignore no-explicit-any
      authClient: auth as any,
      location: target.location,
      maxRetries: target.maxRetries,
      autoRetry: target.maxRetries !== 0,
    });
  }
  return new BigQuery({
    projectId: target.project,
    location: target.location,
    maxRetries: target.maxRetries,
    autoRetry: target.maxRetries !== 0,
  });
}
