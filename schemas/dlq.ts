import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

/** A record that could not be processed after bounded retries, with where it came from and its original bytes. */
export const DlqRecord = Type.Object({
  error: Type.String({ description: "what failed, secret-free" }),
  error_code: Type.String({ description: "stable machine-readable code, e.g. VALIDATION, DECODE, PROCESS" }),
  stage: Type.String({ description: "who gave up: a processor name, a connector, the gateway" }),
  attempts: Type.Integer({ minimum: 0 }),
  source: Type.Object({
    topic: Type.String(),
    partition: Type.Integer({ minimum: -1 }),
    offset: Type.Integer({ minimum: -1 }),
  }),
  original: Type.Object({
    key: Type.Union([Type.String(), Type.Null()]),
    value_base64: Type.Union([Type.String(), Type.Null()]),
    headers: Type.Record(Type.String(), Type.String()),
  }),
  failed_at: Type.String({ format: "date-time" }),
}, { additionalProperties: false });
export type DlqRecord = Static<typeof DlqRecord>;

export const DLQ_TOPIC = defineTopic({
  name: "lz.dlq.v1",
  schema: DlqRecord,
  compacted: false,
  partitions: 1,
  key: "source topic/partition/offset",
  description: "Records that failed decoding, validation or processing after bounded retries.",
});
