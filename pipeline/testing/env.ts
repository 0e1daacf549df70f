/**
 * What integration tests need to know about the real components `deno task test` started for them.
 * Use {@link needs} as the `ignore` of a `Deno.test`: under `CI=true` a missing component is a failure,
 * on a developer's machine a loud skip.
 */
export const CI = Deno.env.get("CI") === "true";

/** Addresses of the running components, or undefined when not started. */
export const services = {
  kafkaBrokers: Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS"),
  pubsubHost: Deno.env.get("PUBSUB_EMULATOR_HOST"),
  chromium: Deno.env.get("LZSYNC_TEST_CHROMIUM"),
  bigqueryEmulator: Deno.env.get("LZSYNC_TEST_BIGQUERY_EMULATOR"),
};

type Component = "kafka" | "pubsub" | "chromium" | "bigquery";
const present: Record<Component, () => boolean> = {
  kafka: () => !!services.kafkaBrokers,
  pubsub: () => !!services.pubsubHost,
  chromium: () => !!services.chromium,
  bigquery: () => !!services.bigqueryEmulator,
};

/**
 * Returns true (= ignore the test) when a required component is missing and we are not in CI. In CI it
 * returns false so the test runs and fails with a clear message from {@link requireService}.
 */
export function needs(...components: Component[]): boolean {
  const missing = components.filter((c) => !present[c]());
  if (missing.length === 0 || CI) return false;
  console.error(
    `\n!!! SKIPPING integration test: ${
      missing.join(", ")
    } not running. Run through \`deno task test\`. !!!\n`,
  );
  return true;
}

/** The Kafka bootstrap address, or a thrown error that says how to get one. */
export function requireKafka(): string {
  if (!services.kafkaBrokers) {
    throw new Error(
      "Kafka is not running for this test: run it through `deno task test` (LZSYNC_TEST_KAFKA_BROKERS)",
    );
  }
  return services.kafkaBrokers;
}

/** The Pub/Sub emulator address, or a thrown error that says how to get one. */
export function requirePubsub(): string {
  if (!services.pubsubHost) {
    throw new Error(
      "The Pub/Sub emulator is not running: run the test through `deno task test` (PUBSUB_EMULATOR_HOST)",
    );
  }
  return services.pubsubHost;
}

/** The Chromium executable, or a thrown error that says how to get one. */
export function requireChromium(): string {
  if (!services.chromium) {
    throw new Error(
      "Chromium is not available: run the test through `deno task test` (LZSYNC_TEST_CHROMIUM)",
    );
  }
  return services.chromium;
}

/** The bigquery-emulator binary, or a thrown error that says how to get one. */
export function requireBigQueryEmulator(): string {
  if (!services.bigqueryEmulator) {
    throw new Error(
      "The BigQuery emulator was not built: run the test through `deno task test` (LZSYNC_TEST_BIGQUERY_EMULATOR)",
    );
  }
  return services.bigqueryEmulator;
}
