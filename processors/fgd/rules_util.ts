/** Small, type-safe accessors shared by the semantic rule packs (the data is user input: never trust it). */
import { isPlainObject } from "./object.ts";

/** A nested mapping, or an empty one. */
export function obj(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

/** A list, or an empty one. */
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A non-empty string, or undefined. */
export function text(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** An integer, or undefined. */
export function int(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

/** Joins names for messages: `a, b and c`. */
export function names(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
