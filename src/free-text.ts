import { z } from "zod";
import { hasControlCharacters } from "./control-characters";

/**
 * A string typed by a person or a platform: every free-text input of the API, the pages and the
 * CLI starts from this, so the rule on control characters is written once.
 */
export function freeText({ multiline = false }: { multiline?: boolean } = {}) {
  return z
    .string()
    .refine(
      (text) => !hasControlCharacters(text, { multiline }),
      multiline ? "must not contain control characters other than newline and tab" : "must not contain control characters",
    );
}
